#include <gtest/gtest.h>

#include <stdexcept>

#include "store/yaml.h"

using cpp::store::parse_yaml_documents;
using cpp::store::parse_yaml_stream;
using cpp::store::resolve_plain_scalar;
using nlohmann::json;

TEST(Yaml, MultiDocumentStream) {
  auto docs = parse_yaml_documents(
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n"
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["metadata"]["name"], "a");
  EXPECT_EQ(docs[1]["metadata"]["name"], "b");
}

TEST(Yaml, EmptyDocumentsAreSkippedButCounted) {
  auto docs = parse_yaml_stream("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n---\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].index, 1u);
  EXPECT_EQ(docs[0].line, 2);
  EXPECT_EQ(docs[1].index, 4u);
  EXPECT_EQ(docs[1].value["b"], 2);
  EXPECT_TRUE(parse_yaml_documents("").empty());
  EXPECT_TRUE(parse_yaml_documents("# nothing\n").empty());
}

TEST(Yaml, ScalarTypes) {
  auto d = parse_yaml_documents(
      "int: 80\nquoted: \"80\"\nsingle: '80'\nneg: -5\nhex: 0x1F\nfloat: 1.5\nbool: true\nno: false\n"
      "yes_word: yes\nnull1: null\nnull2: ~\nempty:\nstr: hello\nip: 10.0.0.1\ncidr: 10.0.0.0/8\n"
      "version: 1.15.3\ntagged: !!str 443\nblock: |\n  text\nlist: [1, \"2\", three]\nbig: 18446744073709551615\n")[0];
  EXPECT_TRUE(d["int"].is_number_integer());
  EXPECT_EQ(d["int"], 80);
  EXPECT_TRUE(d["quoted"].is_string());
  EXPECT_EQ(d["quoted"], "80");
  EXPECT_EQ(d["single"], "80");
  EXPECT_EQ(d["neg"], -5);
  EXPECT_EQ(d["hex"], 31);
  EXPECT_TRUE(d["float"].is_number_float());
  EXPECT_DOUBLE_EQ(d["float"].get<double>(), 1.5);
  EXPECT_EQ(d["bool"], true);
  // Keys resolve like values, then become strings (sigs.k8s.io/yaml): "no" → false → "false".
  EXPECT_EQ(d["false"], false);
  EXPECT_EQ(d["yes_word"], true);
  EXPECT_TRUE(d["null1"].is_null());
  EXPECT_TRUE(d["null2"].is_null());
  EXPECT_TRUE(d["empty"].is_null());
  EXPECT_EQ(d["str"], "hello");
  EXPECT_EQ(d["ip"], "10.0.0.1");
  EXPECT_EQ(d["cidr"], "10.0.0.0/8");
  EXPECT_EQ(d["version"], "1.15.3");
  EXPECT_EQ(d["tagged"], "443");
  EXPECT_EQ(d["block"], "text\n");
  EXPECT_EQ(d["list"], json::parse(R"([1, "2", "three"])"));
  EXPECT_TRUE(d["big"].is_number_unsigned());
}

TEST(Yaml, PlainScalarResolution) {
  EXPECT_EQ(resolve_plain_scalar("0755"), 493);  // Go ParseInt base 0: leading 0 is octal
  EXPECT_EQ(resolve_plain_scalar("1_000"), 1000);
  EXPECT_EQ(resolve_plain_scalar("+7"), 7);
  EXPECT_TRUE(resolve_plain_scalar("1e3").is_number_float());
  EXPECT_TRUE(resolve_plain_scalar(".5").is_number_float());
  EXPECT_EQ(resolve_plain_scalar(".inf"), ".inf");
  EXPECT_EQ(resolve_plain_scalar("-"), "-");
  EXPECT_EQ(resolve_plain_scalar("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(resolve_plain_scalar("ON"), true);
  EXPECT_EQ(resolve_plain_scalar("Off"), false);
  EXPECT_EQ(resolve_plain_scalar("2024-01-01"), "2024-01-01");
}

TEST(Yaml, AnchorsAndMergeKeys) {
  auto d = parse_yaml_documents(
      "base: &b {app: web, tier: front}\n"
      "copy: *b\n"
      "merged:\n  <<: *b\n  tier: back\n")[0];
  EXPECT_EQ(d["copy"]["app"], "web");
  EXPECT_EQ(d["merged"]["app"], "web");
  EXPECT_EQ(d["merged"]["tier"], "back");
  EXPECT_FALSE(d["merged"].contains("<<"));
}

TEST(Yaml, SyntaxErrorNamesDocumentAndLine) {
  try {
    parse_yaml_documents("a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 3\n");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("document 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line "), std::string::npos) << msg;
  }
  try {
    parse_yaml_documents("---\na: 1\n---\nb: *missing\n");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("document 2: line 4"), std::string::npos) << msg;
  }
}

TEST(Yaml, BadExplicitTagIsAnError) {
  EXPECT_THROW(parse_yaml_documents("a: !!int abc\n"), std::invalid_argument);
}
