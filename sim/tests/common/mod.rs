//! Shared test helpers: strict validation against Amazon's own models, the
//! models' sandbox examples, and a sim with an HTTP client.
//!
//! The models are read from `FLYWHEEL_AMAZON_MODELS` or `shared/amazon`
//! beside the repository (`amazon_models`, shared with the main crate's
//! tests); they are never copied into it. A test that reads them starts
//! with `if amazon_models::missing() { return; }` and so passes, saying
//! what it skipped, where they are not found.
//!
//! Strict means: `$ref`s resolved, `allOf` members merged into one schema,
//! `additionalProperties: false` added to every object schema that lists
//! `properties` and says nothing about extra ones (so an invented field
//! fails), and OpenAPI 3 `nullable` (or Swagger `x-nullable`) turned into a
//! `null` type. Object schemas without `properties` are free-form maps by
//! design and are left open.
//!
//! ```ignore
//! let spec = Spec::sp("sellers.json");
//! let errors = spec.validate("getMarketplaceParticipations", 200, &body);
//! assert!(errors.is_empty(), "{errors:#?}");
//! for case in spec.sandbox_cases("getMarketplaceParticipations") { .. case.request(&spec) .. }
//! ```
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Map, Value};

#[path = "../../../tests/common/amazon_models.rs"]
pub mod amazon_models;

/// Amazon's models (see [`amazon_models`]).
pub fn amazon_dir() -> PathBuf {
    amazon_models::path()
}

/// Read a JSON or YAML file of Amazon's models.
pub fn load_amazon_file(rel: &str) -> Value {
    let path = amazon_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if rel.ends_with(".yaml") || rel.ends_with(".yml") {
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

/// An SP-API model (Swagger 2.0) or an Ads spec (OpenAPI 3).
pub struct Spec {
    pub name: String,
    pub doc: Value,
    openapi3: bool,
}

/// One operation of a spec.
pub struct Operation<'a> {
    pub path: String,
    pub method: String,
    pub op: &'a Value,
    /// Path-level parameters shared by the operations of the path.
    pub path_params: Vec<&'a Value>,
}

/// One `x-amzn-api-sandbox` static example.
#[derive(Debug, Clone)]
pub struct SandboxCase {
    pub operation_id: String,
    pub status: u16,
    /// Parameter name → value, as the model writes them (`body` for the body).
    pub parameters: Map<String, Value>,
    /// The canned response body.
    pub response: Value,
}

/// A concrete HTTP request built from a sandbox case.
#[derive(Debug, Clone)]
pub struct SandboxRequest {
    pub method: String,
    /// Path with path parameters filled and the query string appended.
    pub path_and_query: String,
    pub body: Option<Value>,
}

impl Spec {
    /// Load `shared/amazon/<rel>`.
    pub fn load(rel: &str) -> Spec {
        let doc = load_amazon_file(rel);
        let openapi3 = doc.get("openapi").is_some();
        Spec {
            name: rel.to_owned(),
            doc,
            openapi3,
        }
    }

    /// An SP-API model by file name, e.g. `sellers.json`.
    pub fn sp(model: &str) -> Spec {
        Spec::load(&format!("sp-api/models/{model}"))
    }

    /// An Ads spec by file name, e.g. `Profiles_prod_3p.yaml`.
    pub fn ads(spec: &str) -> Spec {
        Spec::load(&format!("ads-api/specs/{spec}"))
    }

    fn definitions(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let defs = if self.openapi3 {
            self.doc.pointer("/components/schemas")
        } else {
            self.doc.get("definitions")
        };
        defs.and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// The operation with this `operationId`; panics if the spec has none.
    pub fn operation(&self, operation_id: &str) -> Operation<'_> {
        let paths = self.doc["paths"].as_object().expect("spec has paths");
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            let path_params: Vec<&Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            for (method, op) in item {
                if op.get("operationId").and_then(Value::as_str) == Some(operation_id) {
                    return Operation {
                        path: path.clone(),
                        method: method.to_uppercase(),
                        op,
                        path_params,
                    };
                }
            }
        }
        panic!("{}: no operation {operation_id}", self.name)
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{}: external $ref {r}", self.name));
                self.resolve(
                    self.doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("{}: dangling $ref {r}", self.name)),
                )
            }
            None => v,
        }
    }

    /// The raw (unstrict) response schema of an operation's status.
    pub fn raw_response_schema(&self, operation_id: &str, status: u16) -> Value {
        let op = self.operation(operation_id);
        let resp = op.op["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| panic!("{}: {operation_id} has no {status} response", self.name));
        let resp = self.resolve(resp);
        if self.openapi3 {
            let content = resp
                .get("content")
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("{}: {operation_id} {status} has no content", self.name));
            content
                .values()
                .find_map(|c| c.get("schema").cloned())
                .unwrap_or_else(|| panic!("{}: {operation_id} {status} has no schema", self.name))
        } else {
            resp.get("schema")
                .cloned()
                .unwrap_or_else(|| panic!("{}: {operation_id} {status} has no schema", self.name))
        }
    }

    /// The strict, self-contained response schema of an operation's status.
    pub fn response_schema(&self, operation_id: &str, status: u16) -> Value {
        strict_document(
            &self.raw_response_schema(operation_id, status),
            self.definitions(),
        )
    }

    /// Validate `instance` against the strict response schema; returns the
    /// errors (empty = valid), each with the instance path.
    pub fn validate(&self, operation_id: &str, status: u16, instance: &Value) -> Vec<String> {
        validate_draft4(&self.response_schema(operation_id, status), instance)
    }

    /// Panic with every error when `instance` is not valid.
    pub fn assert_valid(&self, operation_id: &str, status: u16, instance: &Value) {
        let errors = self.validate(operation_id, status, instance);
        assert!(
            errors.is_empty(),
            "{} {operation_id} {status}: response fails the model:\n{}\nbody: {}",
            self.name,
            errors.join("\n"),
            truncate(&instance.to_string(), 2000)
        );
    }

    /// The operation's `x-amzn-api-sandbox` static examples, every status.
    pub fn sandbox_cases(&self, operation_id: &str) -> Vec<SandboxCase> {
        let op = self.operation(operation_id);
        let mut out = Vec::new();
        let Some(responses) = op.op["responses"].as_object() else {
            return out;
        };
        for (status, resp) in responses {
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            let cases = resp
                .pointer("/x-amzn-api-sandbox/static")
                .and_then(Value::as_array);
            for case in cases.into_iter().flatten() {
                out.push(SandboxCase {
                    operation_id: operation_id.to_owned(),
                    status,
                    parameters: case
                        .pointer("/request/parameters")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    response: case.get("response").cloned().unwrap_or(Value::Null),
                });
            }
        }
        out
    }

    /// Where a parameter goes (`path`, `query`, `header`, `body`), by name.
    pub fn parameter_location(&self, operation_id: &str, name: &str) -> Option<String> {
        if name == "body" {
            return Some("body".into());
        }
        let op = self.operation(operation_id);
        let own = op
            .op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        own.chain(op.path_params.iter().copied())
            .map(|p| self.resolve(p))
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|p| p.get("in").and_then(Value::as_str).map(str::to_owned))
    }
}

impl SandboxCase {
    /// The HTTP request this case describes: path parameters filled in,
    /// query parameters appended (arrays comma-joined, Swagger's default
    /// `csv`), the body as JSON. Header parameters are ignored.
    pub fn request(&self, spec: &Spec) -> SandboxRequest {
        let op = spec.operation(&self.operation_id);
        let mut path = op.path.clone();
        let mut query = Vec::new();
        let mut body = None;
        for (name, p) in &self.parameters {
            let value = p.get("value").cloned().unwrap_or_else(|| p.clone());
            match spec.parameter_location(&self.operation_id, name).as_deref() {
                Some("path") => {
                    path = path.replace(&format!("{{{name}}}"), &encode(&scalar(&value)))
                }
                Some("query") => {
                    query.push(format!("{}={}", encode(name), encode(&scalar(&value))))
                }
                Some("body") => body = Some(value),
                _ => {}
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        SandboxRequest {
            method: op.method,
            path_and_query: path,
            body,
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Percent-encode a path segment or query component.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A report schema (`sp-api/report-schemas/<file>`), strict.
pub fn report_schema(file: &str) -> Value {
    let doc = load_amazon_file(&format!("sp-api/report-schemas/{file}"));
    let defs = doc
        .get("definitions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut root = doc.clone();
    if let Some(o) = root.as_object_mut() {
        o.remove("definitions");
        o.remove("$schema");
    }
    strict_document(&root, &defs)
}

/// Validate a report document against its (strict) report schema (draft 7).
pub fn validate_report(file: &str, instance: &Value) -> Vec<String> {
    let schema = report_schema(file);
    let validator = jsonschema::draft7::options()
        .build(&schema)
        .unwrap_or_else(|e| panic!("report schema {file} does not compile: {e}"));
    collect_errors(&validator, instance)
}

fn validate_draft4(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::draft4::options()
        .build(schema)
        .unwrap_or_else(|e| panic!("strict schema does not compile: {e}\n{schema:#}"));
    collect_errors(&validator, instance)
}

fn collect_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("at {}: {}", e.instance_path, e))
        .collect()
}

// ---------------------------------------------------------------------------
// Strictification

fn ref_name(r: &str) -> Option<&str> {
    r.strip_prefix("#/definitions/")
        .or_else(|| r.strip_prefix("#/components/schemas/"))
}

/// `root` made strict, with every definition it reaches (also made strict)
/// under `definitions` and every `$ref` pointing there.
pub fn strict_document(root: &Value, defs: &Map<String, Value>) -> Value {
    let mut reached = BTreeSet::new();
    let mut todo = Vec::new();
    collect_refs(root, &mut todo);
    while let Some(name) = todo.pop() {
        if reached.insert(name.clone()) {
            if let Some(d) = defs.get(&name) {
                collect_refs(d, &mut todo);
            }
        }
    }
    let mut out_defs = BTreeMap::new();
    for name in &reached {
        let d = defs
            .get(name)
            .unwrap_or_else(|| panic!("dangling $ref to {name}"));
        out_defs.insert(name.clone(), strict(d, defs, 0));
    }
    let mut out = strict(root, defs, 0);
    if !out_defs.is_empty() {
        // A root that is a bare `$ref` gets wrapped so `definitions` can sit beside it.
        if out.get("$ref").is_some() {
            out = json!({ "allOf": [out] });
        }
        out["definitions"] = Value::Object(out_defs.into_iter().collect());
    }
    out
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(name) = o.get("$ref").and_then(Value::as_str).and_then(ref_name) {
                out.push(name.to_owned());
            }
            o.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn is_nullable(o: &Map<String, Value>) -> bool {
    o.get("nullable").and_then(Value::as_bool) == Some(true)
        || o.get("x-nullable").and_then(Value::as_bool) == Some(true)
}

/// One schema made strict (see the module docs).
fn strict(schema: &Value, defs: &Map<String, Value>, depth: usize) -> Value {
    assert!(depth < 64, "allOf nesting too deep (a cycle?)");
    let Some(o) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
        let name = ref_name(r).unwrap_or_else(|| panic!("unsupported $ref {r}"));
        let reference = json!({ "$ref": format!("#/definitions/{name}") });
        return if is_nullable(o) {
            json!({ "anyOf": [reference, { "type": "null" }] })
        } else {
            reference
        };
    }
    let mut o = o.clone();
    if let Some(Value::Array(members)) = o.remove("allOf") {
        // Merge every member (refs inlined, themselves merged) into this schema.
        let mut merged = Map::new();
        for m in &members {
            let m = match m.get("$ref").and_then(Value::as_str).and_then(ref_name) {
                Some(name) => defs
                    .get(name)
                    .unwrap_or_else(|| panic!("dangling $ref to {name}")),
                None => m,
            };
            let m = flatten_all_of(m, defs, depth + 1);
            merge_into(&mut merged, &m);
        }
        let own: Map<String, Value> = o.clone();
        merge_into(&mut merged, &Value::Object(own));
        o = merged;
    }
    let nullable = is_nullable(&o);
    o.remove("nullable");
    o.remove("x-nullable");
    // Recurse into subschemas.
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        for v in props.values_mut() {
            *v = strict(v, defs, depth);
        }
    }
    for key in ["items", "not"] {
        if let Some(v) = o.get_mut(key) {
            if v.is_object() {
                *v = strict(v, defs, depth);
            }
        }
    }
    if let Some(v) = o.get_mut("additionalProperties") {
        if v.is_object() {
            *v = strict(v, defs, depth);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(a)) = o.get_mut(key) {
            for v in a.iter_mut() {
                *v = strict(v, defs, depth);
            }
        }
    }
    if o.contains_key("properties") && !o.contains_key("additionalProperties") {
        o.insert("additionalProperties".into(), Value::Bool(false));
    }
    if nullable {
        match o.get("type").cloned() {
            Some(Value::String(t)) => {
                o.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(mut ts)) => {
                ts.push(json!("null"));
                o.insert("type".into(), Value::Array(ts));
            }
            _ => {}
        }
        if let Some(Value::Array(e)) = o.get_mut("enum") {
            e.push(Value::Null);
        }
        if !o.contains_key("type") {
            return json!({ "anyOf": [Value::Object(o), { "type": "null" }] });
        }
    }
    Value::Object(o)
}

/// A schema with its own `allOf` merged (refs inside inlined), not yet strict.
fn flatten_all_of(schema: &Value, defs: &Map<String, Value>, depth: usize) -> Value {
    assert!(depth < 64, "allOf nesting too deep (a cycle?)");
    let Some(o) = schema.as_object() else {
        return schema.clone();
    };
    let mut o = o.clone();
    let Some(Value::Array(members)) = o.remove("allOf") else {
        return Value::Object(o);
    };
    let mut merged = Map::new();
    for m in &members {
        let m = match m.get("$ref").and_then(Value::as_str).and_then(ref_name) {
            Some(name) => defs
                .get(name)
                .unwrap_or_else(|| panic!("dangling $ref to {name}")),
            None => m,
        };
        merge_into(&mut merged, &flatten_all_of(m, defs, depth + 1));
    }
    merge_into(&mut merged, &Value::Object(o));
    Value::Object(merged)
}

/// Merge one schema's keywords into another: `properties` and `required`
/// are unions, other keywords are taken from the later schema.
fn merge_into(into: &mut Map<String, Value>, from: &Value) {
    let Some(from) = from.as_object() else { return };
    for (k, v) in from {
        match (k.as_str(), into.get_mut(k)) {
            ("properties", Some(Value::Object(existing))) => {
                if let Some(new) = v.as_object() {
                    for (pk, pv) in new {
                        existing.insert(pk.clone(), pv.clone());
                    }
                }
            }
            ("required", Some(Value::Array(existing))) => {
                for r in v.as_array().into_iter().flatten() {
                    if !existing.contains(r) {
                        existing.push(r.clone());
                    }
                }
            }
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// A sim and a client

/// Every network call in the tests gives up after this long.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A reqwest client with timeouts that never follows redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// `scenarios/<name>` in the repository.
pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

/// A small inline scenario: one seller with the default credentials and
/// two products, so infrastructure tests do not depend on the demo.
pub const TINY_SCENARIO: &str = r#"
name = "tiny"
history_days = 30

[[products]]
sku = "TINY-1"
asin = "B0TINY0001"
title = "Tiny widget"
price = 19.99
cogs = 5.0
rating = 4.4

[[products]]
sku = "TINY-2"
asin = "B0TINY0002"
title = "Tiny gadget"
price = 29.99
cogs = 9.0
fulfillment = "FBM"
lead_time_days = 12
"#;

/// The tiny scenario, parsed.
pub fn tiny_scenario() -> flywheel_sim::scenario::Scenario {
    flywheel_sim::scenario::Scenario::from_toml_str(TINY_SCENARIO).expect("tiny scenario parses")
}

/// Sim start time used by the tests: fixed, so runs are repeatable.
pub fn test_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Spawn a frozen-clock sim (speed 0) of `scenario` on 127.0.0.1:0.
pub async fn spawn_frozen(scenario: flywheel_sim::scenario::Scenario) -> flywheel_sim::RunningSim {
    let mut opts = flywheel_sim::SimOptions::new(scenario);
    opts.speed = 0.0;
    opts.now = Some(test_now());
    flywheel_sim::spawn(opts).await.expect("sim starts")
}

/// Which credentials to exchange.
#[derive(Debug, Clone, Copy)]
pub enum Api {
    Sp,
    Ads,
}

/// Refresh-token grant with the scenario's credentials; returns the
/// access token. Panics on failure.
pub async fn access_token(sim: &flywheel_sim::RunningSim, api: Api) -> String {
    let seller = &sim.world.scenario().seller;
    let creds = match api {
        Api::Sp => &seller.sp,
        Api::Ads => &seller.ads,
    };
    let resp = http()
        .post(format!("{}/auth/o2/token", sim.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", creds.refresh_token.as_str()),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(
        resp.status(),
        200,
        "token endpoint refused the scenario's credentials"
    );
    let body: Value = resp.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// GET an SP-API path with a token; returns status, headers and JSON body
/// (`Value::Null` for an empty or non-JSON body).
pub async fn sp_get(
    sim: &flywheel_sim::RunningSim,
    token: &str,
    path_and_query: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = http()
        .get(format!("{}{path_and_query}", sim.base_url()))
        .header("x-amz-access-token", token)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
