#include "s3db/status.h"

#include <gtest/gtest.h>

namespace s3db {
namespace {

TEST(StatusTest, OkIsDefaultAndNotRetryable) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(StatusTest, RetryableDerivesFromCodeOnly) {
  EXPECT_TRUE(Status::Throttled("put k").retryable());
  EXPECT_TRUE(Status::Unavailable("put k").retryable());
  EXPECT_TRUE(Status::Timeout("put k").retryable());
  // A message that mentions throttling does not make a NotFound retryable.
  EXPECT_FALSE(Status::NotFound("get k", "SlowDown 503 Throttled").retryable());
  EXPECT_FALSE(Status::PreconditionFailed("put k").retryable());
  EXPECT_FALSE(Status::InvalidArgument("put k").retryable());
  EXPECT_FALSE(Status::Unauthorized("put k").retryable());
  EXPECT_FALSE(Status::Cancelled("put k").retryable());
  // The write may already have been applied: a blind retry could apply it twice.
  EXPECT_FALSE(Status::UnknownOutcome("put k").retryable());
}

TEST(StatusTest, EveryCodeHasAStableName) {
  for (int c = 0; c < kCodeCount; ++c) EXPECT_NE(code_name(static_cast<Code>(c)), "Unknown") << c;
  EXPECT_EQ(code_name(Code::kUnknownOutcome), "UnknownOutcome");
}

TEST(StatusTest, MessageJoinsContextAndDetail) {
  auto s = Status::NotFound("get users/id=1", "NoSuchKey (HTTP 404, request id R1)");
  EXPECT_EQ(s.message(), "get users/id=1: NoSuchKey (HTTP 404, request id R1)");
  EXPECT_EQ(s.to_string(), "NotFound: get users/id=1: NoSuchKey (HTTP 404, request id R1)");
  EXPECT_EQ(s.with_context("resource users").message(),
            "resource users: get users/id=1: NoSuchKey (HTTP 404, request id R1)");
}

TEST(StatusTest, RetryAfterIsKeptThroughContext) {
  auto s = Status::Throttled("put k");
  EXPECT_FALSE(s.retry_after().has_value());
  s.set_retry_after(std::chrono::milliseconds(1500));
  EXPECT_EQ(s.with_context("x").retry_after(), std::chrono::milliseconds(1500));
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status::NotFound("k"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
  EXPECT_THROW((void)bad.value(), BadResultAccess);
  EXPECT_EQ(bad.value_or(3), 3);
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternal) {
  Result<int> r(Status::OK());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

TEST(CodeNameTest, StableNames) {
  EXPECT_EQ(code_name(Code::kThrottled), "Throttled");
  EXPECT_EQ(code_name(Code::kPreconditionFailed), "PreconditionFailed");
}

}  // namespace
}  // namespace s3db
