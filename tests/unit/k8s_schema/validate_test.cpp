// Structural schema validation: each keyword, the apiserver's error texts,
// all errors reported, unknown fields and pruning.
#include "k8s/schema/validate.h"

#include <gtest/gtest.h>

#include <algorithm>

using cpp::k8s::schema::apply_defaults;
using cpp::k8s::schema::json;
using cpp::k8s::schema::parse_schema;
using cpp::k8s::schema::Schema;
using cpp::k8s::schema::unknown_fields;
using cpp::k8s::schema::validate_value;

namespace {

Schema S(const char* text) { return parse_schema(json::parse(text), "test"); }

std::vector<std::string> errs(const Schema& s, const char* value, const std::string& path = "") {
  return validate_value(s, json::parse(value), path);
}

bool has(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& e : v) out += e + "\n";
  return out;
}

}  // namespace

TEST(Validate, TypesAndApiserverWording) {
  auto s = S(R"({"type":"object","properties":{
      "i":{"type":"integer"},"n":{"type":"number"},"s":{"type":"string"},
      "b":{"type":"boolean"},"a":{"type":"array"},"o":{"type":"object"}}})");
  EXPECT_TRUE(errs(s, R"({"i":1,"n":1.5,"s":"x","b":true,"a":[],"o":{}})").empty());
  EXPECT_TRUE(errs(s, R"({"n":2,"i":3.0})").empty()) << "integral numbers are integers, integers are numbers";
  auto e = errs(s, R"({"i":"string","n":"1","s":5,"b":"true","a":{},"o":[]})");
  ASSERT_EQ(e.size(), 6u) << joined(e);
  EXPECT_TRUE(has(e, R"(i: Invalid value: "string": i in body must be of type integer: "string")")) << joined(e);
  EXPECT_TRUE(has(e, "s in body must be of type string: \"integer\""));
  EXPECT_TRUE(has(e, "b in body must be of type boolean: \"string\""));
  EXPECT_TRUE(has(e, "a in body must be of type array: \"object\""));
  EXPECT_TRUE(has(e, "o in body must be of type object: \"array\""));
  EXPECT_TRUE(has(errs(s, R"({"i":1.5})"), "i in body must be of type integer: \"number\""));
}

TEST(Validate, RequiredAndNestedPaths) {
  auto s = S(R"({"type":"object","required":["spec"],"properties":{"spec":{"type":"object","properties":{
      "virtualRouters":{"type":"array","items":{"type":"object","required":["localASN","neighbors"],
      "properties":{"localASN":{"type":"integer"},"neighbors":{"type":"array"}}}}}}}})");
  EXPECT_EQ(errs(s, "{}"), std::vector<std::string>{"spec: Required value"});
  auto e = errs(s, R"({"spec":{"virtualRouters":[{"localASN":1,"neighbors":[]},{"localASN":"x"}]}})");
  EXPECT_TRUE(has(e, "spec.virtualRouters[1].neighbors: Required value")) << joined(e);
  EXPECT_TRUE(has(
      e,
      R"(spec.virtualRouters[1].localASN: Invalid value: "string": spec.virtualRouters[1].localASN in body must be of type integer: "string")"))
      << joined(e);
  EXPECT_EQ(e.size(), 2u) << "every error is reported: " << joined(e);
}

TEST(Validate, NullInNonNullableFieldCountsAsAbsent) {
  auto s = S(R"({"type":"object","required":["r"],"properties":{"r":{"type":"string"},"o":{"type":"string"},
      "n":{"type":"string","nullable":true},"l":{"type":"array","items":{"type":"string"}}}})");
  EXPECT_EQ(errs(s, R"({"r":null,"o":null,"n":null})"), std::vector<std::string>{"r: Required value"});
  EXPECT_TRUE(has(errs(s, R"({"r":"x","l":[null]})"), "l[0] in body must be of type string: \"null\""))
      << "nulls inside lists are not pruned";
}

TEST(Validate, Enum) {
  auto s = S(R"({"type":"object","properties":{"p":{"type":"string","enum":["TCP","UDP"]},
      "q":{"type":"string","enum":["Yes","No"]}}})");
  EXPECT_TRUE(errs(s, R"({"p":"TCP","q":"No"})").empty());
  auto e = errs(s, R"({"p":"ICMP"})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], R"(p: Unsupported value: "ICMP": supported values: "TCP", "UDP")");
}

TEST(Validate, StringLengthsPatternAndFormats) {
  auto s = S(R"({"type":"object","properties":{
      "l":{"type":"string","minLength":2,"maxLength":3},
      "p":{"type":"string","pattern":"^[a-z]+$"},
      "c":{"type":"string","format":"cidr"},
      "v4":{"type":"string","format":"ipv4"},"v6":{"type":"string","format":"ipv6"},
      "t":{"type":"string","format":"date-time"},"u":{"type":"string","format":"uuid"},
      "i":{"type":"string","format":"int32"}}})");
  EXPECT_TRUE(errs(s, R"({"l":"ab","p":"abc","c":"10.0.0.0/8","v4":"192.0.2.1","v6":"2001:db8::1",
      "t":"2025-10-19T06:44:04Z","u":"3f5dc417-f2f2-40d3-9ff6-ee5511b9dec9","i":"not checked"})")
                  .empty());
  EXPECT_TRUE(errs(s, R"({"c":"2001:db8::/128","l":"äöü"})").empty()) << "lengths count characters";
  auto e = errs(s, R"({"l":"abcd","p":"A1","c":"10.0.0.0/33","v4":"2001:db8::1","v6":"192.0.2.1",
      "t":"yesterday","u":"x"})");
  EXPECT_EQ(e.size(), 7u) << joined(e);
  EXPECT_TRUE(has(e, "l: Too long: may not be more than 3 bytes")) << joined(e);
  EXPECT_TRUE(has(e, R"(p: Invalid value: "A1": p in body should match '^[a-z]+$')"));
  EXPECT_TRUE(has(e, R"(c: Invalid value: "10.0.0.0/33": c in body must be of type cidr: "10.0.0.0/33")"));
  EXPECT_TRUE(has(e, "v4 in body must be of type ipv4"));
  EXPECT_TRUE(has(e, "v6 in body must be of type ipv6"));
  EXPECT_TRUE(has(e, "t in body must be of type date-time"));
  EXPECT_TRUE(has(e, "u in body must be of type uuid"));
  EXPECT_TRUE(has(errs(s, R"({"l":"a"})"), R"(l: Invalid value: "a": l in body should be at least 2 chars long)"));
  auto f = S(R"({"type":"object","properties":{"m":{"type":"string","format":"mac"},
      "h":{"type":"string","format":"hostname"},"b":{"type":"string","format":"byte"}}})");
  EXPECT_TRUE(errs(f, R"({"m":"aa:bb:cc:dd:ee:ff","h":"node-1.example.com","b":"aGk="})").empty());
  auto fe = errs(f, R"({"m":"aa:bb-cc:dd:ee:ff","h":"-node","b":"aGk"})");
  EXPECT_EQ(fe.size(), 3u) << joined(fe);
  for (const char* bad : {"10.0.0.0", "10.0.0/8", "010.0.0.0/8", "10.0.0.0/8x", "::/129", "x/1"})
    EXPECT_FALSE(errs(s, (std::string(R"({"c":")") + bad + "\"}").c_str()).empty()) << bad;
}

TEST(Validate, NumberBounds) {
  auto s = S(R"({"type":"object","properties":{
      "p":{"type":"integer","minimum":1,"maximum":65535},
      "x":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":true},
      "m":{"type":"integer","multipleOf":5}}})");
  EXPECT_TRUE(errs(s, R"({"p":1,"x":0.5,"m":10})").empty());
  EXPECT_TRUE(errs(s, R"({"p":65535})").empty());
  EXPECT_EQ(errs(s, R"({"p":0})"),
            std::vector<std::string>{"p: Invalid value: 0: p in body should be greater than or equal to 1"});
  EXPECT_EQ(errs(s, R"({"p":70000})"),
            std::vector<std::string>{"p: Invalid value: 70000: p in body should be less than or equal to 65535"});
  EXPECT_TRUE(has(errs(s, R"({"x":0})"), "x in body should be greater than 0"));
  EXPECT_TRUE(has(errs(s, R"({"x":1})"), "x in body should be less than 1"));
  EXPECT_TRUE(has(errs(s, R"({"m":7})"), "m in body should be a multiple of 5"));
}

TEST(Validate, ArraysAndMaps) {
  auto s = S(R"({"type":"object","properties":{
      "a":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"integer","maximum":9}},
      "m":{"type":"object","additionalProperties":{"type":"string","maxLength":2}},
      "any":{"type":"object","additionalProperties":true}}})");
  EXPECT_TRUE(errs(s, R"({"a":[1,2],"m":{"k":"v"},"any":{"x":[1,{"y":2}]}})").empty());
  EXPECT_EQ(errs(s, R"({"a":[1,2,3]})"), std::vector<std::string>{"a: Too many: 3: must have at most 2 items"});
  EXPECT_TRUE(has(errs(s, R"({"a":[]})"), R"(a: Invalid value: "array": a in body should have at least 1 items)"));
  EXPECT_TRUE(
      has(errs(s, R"({"a":[1,10]})"), "a[1]: Invalid value: 10: a[1] in body should be less than or equal to 9"));
  auto e = errs(s, R"({"m":{"k":1,"j":"long"}})");
  EXPECT_TRUE(has(e, "m.k in body must be of type string")) << joined(e);
  EXPECT_TRUE(has(e, "m.j: Too long")) << joined(e);
}

TEST(Validate, ListTypeSetAndMapRejectDuplicates) {
  auto s = S(R"({"type":"object","properties":{
      "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
      "conditions":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["type"],
                    "items":{"type":"object","properties":{"type":{"type":"string"},"status":{"type":"string"}}}}}})");
  EXPECT_TRUE(errs(s, R"({"tags":["a","b"],"conditions":[{"type":"A","status":"True"},{"type":"B","status":"True"}]})")
                  .empty());
  EXPECT_EQ(errs(s, R"({"tags":["a","b","a"]})"), std::vector<std::string>{R"(tags[2]: Duplicate value: "a")"});
  EXPECT_EQ(errs(s, R"({"conditions":[{"type":"A","status":"True"},{"type":"A","status":"False"}]})"),
            std::vector<std::string>{R"(conditions[1]: Duplicate value: map[string]interface {}{"type":"A"})"});
}

TEST(Validate, IntOrStringAndPreserveUnknown) {
  auto s = S(R"({"type":"object","properties":{
      "t":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}],
           "maximum":255,"pattern":"^[A-Z][a-z]+$"},
      "free":{"x-kubernetes-preserve-unknown-fields":true}}})");
  EXPECT_TRUE(errs(s, R"({"t":8,"free":{"anything":[1,"two"]}})").empty());
  EXPECT_TRUE(errs(s, R"({"t":"Echo","free":"scalar too"})").empty());
  EXPECT_TRUE(has(errs(s, R"({"t":true})"),
                  R"(t: Invalid value: "boolean": t in body must be of type integer,string: "boolean")"));
  EXPECT_EQ(errs(s, R"({"t":"echo"})"),
            std::vector<std::string>{R"(t: Invalid value: "echo": t in body should match '^[A-Z][a-z]+$')"});
  EXPECT_EQ(errs(s, R"({"t":300})"),
            std::vector<std::string>{"t: Invalid value: 300: t in body should be less than or equal to 255"});
}

TEST(Validate, OneOfAllOfNot) {
  auto s = S(R"({"type":"object","properties":{"spec":{"type":"object",
      "oneOf":[{"required":["endpointSelector"]},{"required":["nodeSelector"]}],
      "allOf":[{"properties":{"n":{"minimum":1}}}],
      "not":{"required":["forbidden"]},
      "properties":{"endpointSelector":{"type":"object"},"nodeSelector":{"type":"object"},
                    "n":{"type":"integer"},"forbidden":{"type":"string"}}}}})");
  EXPECT_TRUE(errs(s, R"({"spec":{"endpointSelector":{},"n":2}})").empty());
  auto none = errs(s, R"({"spec":{}})");
  EXPECT_TRUE(has(none, R"(spec: Invalid value: "object": spec in body must validate one and only one schema (oneOf))"))
      << joined(none);
  EXPECT_TRUE(has(none, "spec.endpointSelector: Required value")) << joined(none);
  EXPECT_TRUE(has(errs(s, R"({"spec":{"endpointSelector":{},"nodeSelector":{}}})"), "one and only one schema (oneOf)"));
  EXPECT_TRUE(
      has(errs(s, R"({"spec":{"endpointSelector":{},"n":0}})"), "spec.n in body should be greater than or equal to 1"));
  EXPECT_TRUE(has(errs(s, R"({"spec":{"endpointSelector":{},"forbidden":"x"}})"),
                  "spec in body must not validate the schema (not)"));
}

TEST(Validate, EmbeddedResourceNeedsApiVersionAndKind) {
  auto s = S(R"({"type":"object","properties":{"template":{"type":"object","x-kubernetes-embedded-resource":true,
      "x-kubernetes-preserve-unknown-fields":true}}})");
  EXPECT_TRUE(errs(s, R"({"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}})").empty());
  auto e = errs(s, R"({"template":{"metadata":{}}})");
  EXPECT_TRUE(has(e, "template.apiVersion: Required value")) << joined(e);
  EXPECT_TRUE(has(e, "template.kind: Required value"));
}

TEST(UnknownFields, ReportedWithPathsAndPruned) {
  auto s = S(R"({"type":"object","properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},
      "metadata":{"type":"object"},
      "spec":{"type":"object","properties":{"ingress":{"type":"array","items":{"type":"object","properties":{
        "fromEndpoints":{"type":"array"}}}},
        "labels":{"type":"object","additionalProperties":{"type":"string"}},
        "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"known":{"type":"object"}}}}}}})");
  json obj = json::parse(R"({"apiVersion":"cilium.io/v2","kind":"X","metadata":{"name":"a","bogus":1},
      "spec":{"ingress":[{"fromEndpoints":[]},{"fromEndpoint":[]}],"labels":{"any":"thing"},
              "free":{"kept":1,"known":{"inner":1}},"foo":1},"top":true})");
  json copy = obj;
  auto u = unknown_fields(s, copy, false);
  std::sort(u.begin(), u.end());
  // spec.free.known is declared without properties: its content is unknown
  // even though its parent preserves unknown fields.
  std::vector<std::string> want = {R"(unknown field "metadata.bogus")", R"(unknown field "spec.foo")",
                                   R"(unknown field "spec.free.known.inner")",
                                   R"(unknown field "spec.ingress[1].fromEndpoint")", R"(unknown field "top")"};
  EXPECT_EQ(u, want);
  EXPECT_EQ(copy, obj) << "reporting alone changes nothing";

  unknown_fields(s, copy, true);
  EXPECT_FALSE(copy.contains("top"));
  EXPECT_FALSE(copy["spec"].contains("foo"));
  EXPECT_FALSE(copy["spec"]["ingress"][1].contains("fromEndpoint"));
  EXPECT_FALSE(copy["metadata"].contains("bogus"));
  EXPECT_EQ(copy["metadata"]["name"], "a");
  EXPECT_EQ(copy["spec"]["free"]["kept"], 1);
  EXPECT_TRUE(unknown_fields(s, copy, false).empty()) << "pruned object has no unknown fields left";
}

TEST(ParseSchema, RejectsWhatKubernetesRejects) {
  auto bad = [](const char* text) {
    try {
      parse_schema(json::parse(text), "crd v1 openAPIV3Schema");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(bad(R"({"type":"object","properties":{"a":{"$ref":"#/x"}}})"),
            "crd v1 openAPIV3Schema.properties.a.$ref: keyword not allowed in a Kubernetes structural schema");
  EXPECT_EQ(bad(R"({"type":"object","properties":{"a":{"description":"no type"}}})"),
            "crd v1 openAPIV3Schema.properties.a: type is required (or x-kubernetes-int-or-string / "
            "x-kubernetes-preserve-unknown-fields)");
  EXPECT_NE(bad(R"({"type":"thing"})").find("openAPIV3Schema.type: must be one of"), std::string::npos);
  EXPECT_NE(bad(R"({"type":"string","pattern":"(["})").find("openAPIV3Schema.pattern: invalid regular expression"),
            std::string::npos);
  EXPECT_NE(bad(R"({"type":"object","additionalProperties":false})").find("false is not allowed"), std::string::npos);
  EXPECT_NE(bad(R"({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}})")
                .find("mutually exclusive"),
            std::string::npos);
  EXPECT_NE(bad(R"({"type":"string","x-kubernetes-validations":[{"rule":"self != ''"}]})").find("CEL"),
            std::string::npos);
  EXPECT_EQ(bad(R"({"type":"object","properties":{"t":{"x-kubernetes-int-or-string":true}}})"), "accepted");
  EXPECT_EQ(bad(R"({"type":"integer","minimum":1,"default":0})"),
            "crd v1 openAPIV3Schema.default: default: Invalid value: 0: default in body should be greater than or "
            "equal to 1");
  EXPECT_NE(bad(R"({"type":"array","x-kubernetes-list-type":"map","items":{"type":"object"}})")
                .find("list-map-keys: required"),
            std::string::npos);
  // Junctors only add value checks; the shape is the structural part's.
  EXPECT_EQ(bad(R"({"type":"object","oneOf":[{"type":"object"}]})"),
            "crd v1 openAPIV3Schema.oneOf[0].type: not allowed inside oneOf/anyOf/allOf/not");
  EXPECT_EQ(
      bad(R"({"type":"object","properties":{"a":{"type":"string"}},"anyOf":[{"properties":{"b":{"minLength":1}}}]})"),
      "crd v1 openAPIV3Schema.anyOf[0].properties.b: a field inside oneOf/anyOf/allOf/not must also be declared "
      "outside it");
  EXPECT_EQ(bad(R"({"type":"object","properties":{"a":{"type":"string"}},"oneOf":[{"required":["a"]},
      {"properties":{"a":{"minLength":2}}}]})"),
            "accepted");
  EXPECT_NE(bad(R"({"anyOf":[{"type":"integer"},{"type":"string"}]})").find("anyOf[0].type: not allowed"),
            std::string::npos)
      << "typed anyOf branches only under x-kubernetes-int-or-string";
}

TEST(Defaults, AppliedWhereAbsentOrNullAndNullsDropped) {
  auto s = S(R"({"type":"object","properties":{"spec":{"type":"object","properties":{
      "neighbors":{"type":"array","items":{"type":"object","properties":{
        "peerPort":{"type":"integer","default":179},"ttl":{"type":"integer"},
        "opt":{"type":"string","nullable":true,"default":"x"}}}},
      "mode":{"type":"string","default":"No"}}}}})");
  json v = json::parse(R"({"spec":{"neighbors":[{},{"peerPort":1179,"ttl":null,"opt":null}],"mode":null}})");
  apply_defaults(s, v);
  EXPECT_EQ(v, json::parse(
                   R"({"spec":{"neighbors":[{"peerPort":179,"opt":"x"},{"peerPort":1179,"opt":null}],"mode":"No"}})"));
}
