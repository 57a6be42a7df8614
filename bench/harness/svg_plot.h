// bench/harness/svg_plot.h — a small line-chart renderer producing standalone SVG.
//
// Contract: render_svg() lays `panels` out in a grid of `columns`, each with its own axes, "nice"
// ticks (1/2/5 × 10^k), axis labels and title, one polyline per series; the figure gets a title
// and a legend built from the series names/colors of all panels. Pure function of its input; the
// output is a complete SVG 1.1 document (renders in browsers and rsvg-convert). Text is escaped.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace s3db::bench {

struct PlotSeries {
  std::string name;
  std::string color;  // any SVG color, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct PlotPanel {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<PlotSeries> series;
};

struct PlotFigure {
  std::string title;
  std::string subtitle;
  int columns = 2;
  std::vector<PlotPanel> panels;
};

std::string render_svg(const PlotFigure& figure);

// Ticks from lo to hi (inclusive of the rounded ends) with a 1/2/5 × 10^k step, about `target` of
// them. Exposed for tests and for axis ranges: the first and last tick bracket [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace s3db::bench
