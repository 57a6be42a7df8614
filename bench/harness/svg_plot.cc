#include "svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace s3db::bench {
namespace {

constexpr double kPanelW = 460, kPanelH = 240;
constexpr double kLeft = 72, kRight = 18, kTop = 34, kBottom = 48;
constexpr double kHeader = 78;  // figure title + subtitle + legend

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Compact tick labels: 0, 2.5, 10k, 1.2M.
std::string tick_label(double v) {
  const double a = std::fabs(v);
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:g}", std::round(v * 1000) / 1000);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * mag) { step = m * mag; break; }
  }
  std::vector<double> ticks;
  const double first = std::floor(lo / step) * step;
  for (int i = 0; i < 100; ++i) {
    const double t = first + i * step;
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

std::string render_svg(const PlotFigure& fig) {
  const int cols = std::max(1, fig.columns);
  const int rows = static_cast<int>((fig.panels.size() + cols - 1) / cols);
  const double width = cols * kPanelW, height = kHeader + rows * kPanelH + 10;
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\">{3}</text>\n"
      "<text x=\"{2}\" y=\"44\" font-size=\"12\" fill=\"#444\" text-anchor=\"middle\">{4}</text>\n",
      width, height, width / 2, esc(fig.title), esc(fig.subtitle));

  // Legend: one entry per distinct series name, in first-seen order.
  std::vector<std::pair<std::string, std::string>> legend;
  for (const auto& p : fig.panels)
    for (const auto& s : p.series)
      if (std::none_of(legend.begin(), legend.end(), [&](auto& e) { return e.first == s.name; }))
        legend.emplace_back(s.name, s.color);
  double lx = width / 2 - legend.size() * 65.0;
  out += "<g class=\"legend\" font-size=\"12\">\n";
  for (const auto& [name, color] : legend) {
    out += fmt::format("<line x1=\"{0}\" y1=\"62\" x2=\"{1}\" y2=\"62\" stroke=\"{2}\" stroke-width=\"3\"/>"
                       "<text x=\"{3}\" y=\"66\">{4}</text>\n",
                       lx, lx + 22, color, lx + 27, esc(name));
    lx += 130;
  }
  out += "</g>\n";

  for (std::size_t i = 0; i < fig.panels.size(); ++i) {
    const PlotPanel& p = fig.panels[i];
    const double ox = static_cast<double>(i % cols) * kPanelW;
    const double oy = kHeader + static_cast<double>(i / cols) * kPanelH;
    const double x0 = ox + kLeft, x1 = ox + kPanelW - kRight;
    const double y0 = oy + kPanelH - kBottom, y1 = oy + kTop;  // y0 = bottom edge in pixels

    double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymax = 0;
    for (const auto& s : p.series)
      for (auto [x, y] : s.points) {
        xmin = std::min(xmin, x); xmax = std::max(xmax, x); ymax = std::max(ymax, y);
      }
    if (!std::isfinite(xmin)) { xmin = 0; xmax = 1; }
    xmin = std::min(xmin, 0.0);
    const auto xt = nice_ticks(xmin, xmax, 5), yt = nice_ticks(0, ymax > 0 ? ymax : 1, 4);
    const double xa = xt.front(), xb = xt.back(), ya = yt.front(), yb = yt.back();
    auto px = [&](double x) { return x0 + (x - xa) / (xb - xa) * (x1 - x0); };
    auto py = [&](double y) { return y0 - (y - ya) / (yb - ya) * (y0 - y1); };

    out += fmt::format("<g class=\"panel\">\n<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" "
                       "text-anchor=\"middle\">{}</text>\n",
                       (x0 + x1) / 2, oy + 20, esc(p.title));
    for (double t : yt) {
      out += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e4e4e4\"/>"
                         "<text x=\"{3}\" y=\"{4:.1f}\" font-size=\"10\" text-anchor=\"end\">{5}</text>\n",
                         x0, py(t), x1, x0 - 5, py(t) + 3.5, tick_label(t));
    }
    for (double t : xt) {
      out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#333\"/>"
                         "<text x=\"{0:.1f}\" y=\"{3}\" font-size=\"10\" text-anchor=\"middle\">{4}</text>\n",
                         px(t), y0, y0 + 4, y0 + 15, tick_label(t));
    }
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>"
                       "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{3}\" stroke=\"#333\"/>\n",
                       x0, y0, x1, y1);
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
                       (x0 + x1) / 2, y0 + 32, esc(p.x_label));
    out += fmt::format("<text x=\"{0}\" y=\"{1}\" font-size=\"11\" text-anchor=\"middle\" "
                       "transform=\"rotate(-90 {0} {1})\">{2}</text>\n",
                       ox + 16, (y0 + y1) / 2, esc(p.y_label));
    for (const auto& s : p.series) {
      if (s.points.empty()) continue;
      out += fmt::format("<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" "
                         "stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"",
                         esc(s.name), s.color);
      for (auto [x, y] : s.points) out += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
      out += "\"/>\n";
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace s3db::bench
