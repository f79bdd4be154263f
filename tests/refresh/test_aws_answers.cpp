// Reading AWS answers (core/src/store/aws_http.cpp): STS credentials and AWS error bodies, in the
// shapes AWS documents, parsed by pugixml. Real STS answers and errors from moto are read in
// py/test_aws_credentials.py.
#include <catch2/catch.hpp>

#include "store/aws_internal.hpp"

using namespace momento::auth;
using namespace momento::auth::aws;
using namespace momento::auth::aws::impl;

TEST_CASE("STS: credentials are read from the documented AssumeRole answer, entities decoded") {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <AssumeRoleWithWebIdentityResult>\n"
      "    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>\n"
      "    <Credentials>\n"
      "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
      "      <SecretAccessKey>wJalr&amp;XUtn/K7MDENG&lt;x&gt;</SecretAccessKey>\n"
      "      <SessionToken><![CDATA[FwoGZX&IvYXdz]]></SessionToken>\n"
      "      <Expiration>2030-01-02T03:04:05Z</Expiration>\n"
      "    </Credentials>\n"
      "    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>\n"
      "  </AssumeRoleWithWebIdentityResult>\n"
      "  <ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata>\n"
      "</AssumeRoleWithWebIdentityResponse>\n";
  Credentials c = sts_credentials_of(xml);
  CHECK(c.access_key_id == "ASIAEXAMPLE");
  CHECK(c.secret_access_key.reveal() == "wJalr&XUtn/K7MDENG<x>");
  CHECK(c.session_token.reveal() == "FwoGZX&IvYXdz");
  CHECK(c.expires_at == 1893553445);
}

TEST_CASE("STS: an answer without credentials, of another action, or not XML reads as empty") {
  for (std::string xml : {std::string("<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>"),
                          // Credentials of another result element than the response's own
                          std::string("<AssumeRoleResponse><OtherResult><Credentials><AccessKeyId>A</AccessKeyId>"
                                      "<SecretAccessKey>S</SecretAccessKey></Credentials></OtherResult>"
                                      "</AssumeRoleResponse>"),
                          std::string("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A"),
                          std::string("{\"Credentials\": {}}"), std::string()}) {
    Credentials c = sts_credentials_of(xml);
    CHECK(c.access_key_id.empty());
    CHECK(c.secret_access_key.empty());
    CHECK_FALSE(c.expires_at);
  }
}

TEST_CASE("AWS errors: STS's XML ErrorResponse and JSON services' bodies give code and message") {
  std::string sts =
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <Error><Type>Sender</Type><Code>ExpiredToken</Code>"
      "<Message>The security token included in the request is expired &amp; refused</Message></Error>\n"
      "  <RequestId>4a2b</RequestId>\n</ErrorResponse>";
  AwsError e = aws_error_of(sts);
  CHECK(e.code == "ExpiredToken");
  CHECK(e.message == "The security token included in the request is expired & refused");
  std::string s3_style = "<Error><Code>AccessDenied</Code><Message>no</Message></Error>";
  CHECK(aws_error_of(s3_style).code == "AccessDenied");
  std::string sm = R"({"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"gone"})";
  e = aws_error_of(sm);
  CHECK(e.code == "ResourceNotFoundException");
  CHECK(e.message == "gone");
  std::string oidc = R"({"error":"invalid_grant","error_description":"Invalid refresh token provided"})";
  e = aws_error_of(oidc);
  CHECK(e.code == "invalid_grant");
  CHECK(e.message == "Invalid refresh token provided");
  // Long messages are cut; broken or foreign bodies give nothing, never an exception.
  std::string long_msg = "<ErrorResponse><Error><Code>X</Code><Message>" + std::string(5000, 'm') +
                         "</Message></Error></ErrorResponse>";
  CHECK(aws_error_of(long_msg).message.size() == 200);
  for (std::string bad : {std::string("<ErrorResponse><Error><Code>X"), std::string("<html>502</html>"),
                          std::string("not json"), std::string("[1,2]"), std::string()}) {
    e = aws_error_of(bad);
    CHECK(e.code.empty());
    CHECK(e.message.empty());
  }
}

TEST_CASE("AWS errors: codes map by the AWS error code first, then by the HTTP status") {
  CHECK(code_for(403, "InvalidClientTokenId") == ErrorCode::Authentication);
  CHECK(code_for(403, "ExpiredToken") == ErrorCode::Authentication);
  CHECK(code_for(403, "AccessDenied") == ErrorCode::Permission);
  CHECK(code_for(400, "InvalidIdentityToken") == ErrorCode::Authentication);
  CHECK(code_for(400, "ValidationError") == ErrorCode::InvalidArgument);
  CHECK(code_for(400, "Throttling") == ErrorCode::LimitExceeded);
  CHECK(code_for(400, "ResourceExistsException") == ErrorCode::AlreadyExists);
  CHECK(code_for(503, "IDPCommunicationError") == ErrorCode::ServerUnavailable);
  CHECK(code_for(400, "") == ErrorCode::BadRequest);
  CHECK(code_for(401, "") == ErrorCode::Authentication);
  CHECK(code_for(403, "") == ErrorCode::Permission);
  CHECK(code_for(404, "") == ErrorCode::NotFound);
  CHECK(code_for(429, "") == ErrorCode::LimitExceeded);
  CHECK(code_for(500, "") == ErrorCode::InternalServer);
  CHECK(code_for(503, "") == ErrorCode::ServerUnavailable);
  CHECK(code_for(418, "") == ErrorCode::Unknown);
}

TEST_CASE("AWS times: ISO 8601 in the forms AWS answers and caches hold") {
  CHECK(parse_time("2030-01-02T03:04:05Z") == 1893553445);
  CHECK(parse_time("2030-01-02T03:04:05.123Z") == 1893553445);
  CHECK(parse_time("2030-01-02T05:04:05+02:00") == 1893553445);
  CHECK(parse_time("2030-01-02T03:04:05UTC") == 1893553445);  // botocore's JSONFileCache
  CHECK(parse_time("2030-01-02T03:04:05") == 1893553445);
  CHECK_FALSE(parse_time("2030-01-02T03:04:05 CET"));
  CHECK_FALSE(parse_time("tomorrow"));
}
