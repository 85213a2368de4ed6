//! `schema Event = file("schemas/event.json");`: a schema read from a file of the crate
//! when the macro expands, so that the block is checked against it like an inline one.
//!
//! The file is Spark's schema JSON, what `df.schema.json()` prints (and what
//! `StructType.fromJson` reads):
//!
//! ```json
//! {"type": "struct", "fields": [
//!   {"name": "ts", "type": "timestamp", "nullable": true, "metadata": {}},
//!   {"name": "amount", "type": "double", "nullable": false, "metadata": {}}
//! ]}
//! ```
//!
//! Spark's type names map to the DSL's: `boolean` → bool, `integer` → i32, `long` → i64,
//! `float` → f32, `double` → f64, `string` → string, `binary` → binary, `date` → date,
//! `timestamp` → timestamp_us (Spark keeps microseconds); the DSL's own names
//! (`timestamp_ms`, ...) are taken too. `nullable` defaults to true, as in Spark. The
//! path is relative to the crate's root (`CARGO_MANIFEST_DIR`), and the expansion
//! includes the file's bytes, so that cargo rebuilds the crate when the file changes.

use std::path::PathBuf;

use proc_macro2::Span;
use serde_json::Value;

use crate::parse::{FieldDecl, TypeDecl};
use crate::types::DslType;

/// A schema file's fields, as if declared inline (their tokens on `span`, the path), and
/// the file's absolute path.
pub(crate) struct LoadedSchema {
    pub(crate) fields: Vec<FieldDecl>,
    pub(crate) path: PathBuf,
}

/// An error about a schema file: the message and its help line.
pub(crate) struct SchemaFileError {
    pub(crate) message: String,
    pub(crate) help: String,
}

fn error(message: String, help: impl Into<String>) -> SchemaFileError {
    SchemaFileError {
        message,
        help: help.into(),
    }
}

/// Reads the schema file `relative` (to the crate's root).
pub(crate) fn load(relative: &str, span: Span) -> Result<LoadedSchema, SchemaFileError> {
    let root = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let path = match root {
        Some(root) => root.join(relative),
        None => PathBuf::from(relative),
    };
    // the messages name the path as written: the crate's root differs between machines
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        };
        error(
            format!("cannot read the schema file `{relative}`: {reason}"),
            "the path is relative to the crate's root (the folder of its Cargo.toml)",
        )
    })?;
    let fields = parse(&text).map_err(|mut e| {
        e.message = format!("in the schema file `{relative}`: {}", e.message);
        e
    })?;
    let fields = fields
        .into_iter()
        .map(|(name, ty, nullable)| FieldDecl {
            name: column_ident(&name, span),
            ty: TypeDecl {
                base: syn::Ident::new(ty.name(), span),
                nullable,
            },
        })
        .collect();
    Ok(LoadedSchema { fields, path })
}

/// The identifier of column `name` (checked by [`is_column_name`]), raw for a keyword.
fn column_ident(name: &str, span: Span) -> syn::Ident {
    if syn::parse_str::<syn::Ident>(name).is_ok() {
        syn::Ident::new(name, span)
    } else {
        syn::Ident::new_raw(name, span)
    }
}

/// The columns of a Spark schema JSON document: name, type, nullability.
fn parse(text: &str) -> Result<Vec<(String, DslType, bool)>, SchemaFileError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        error(
            format!("not JSON (line {}, column {}): {e}", e.line(), e.column()),
            "write Spark's schema JSON: {\"type\": \"struct\", \"fields\": [{\"name\": \"ts\", \"type\": \"timestamp\", \"nullable\": true}]}",
        )
    })?;
    let fields = doc.get("fields").and_then(Value::as_array).ok_or_else(|| {
        error(
            "the document has no `fields` array".to_string(),
            "write Spark's schema JSON, as `df.schema.json()` prints it",
        )
    })?;
    if fields.is_empty() {
        return Err(error(
            "the schema has no fields".to_string(),
            "each field is a column: add at least one",
        ));
    }
    let mut out: Vec<(String, DslType, bool)> = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let name = field.get("name").and_then(Value::as_str).ok_or_else(|| {
            error(
                format!("field {i} has no `name`"),
                "give every field a \"name\"",
            )
        })?;
        if !is_column_name(name) {
            return Err(error(
                format!("field `{name}` is not a name a column can have in a block"),
                "column names are Rust identifiers: letters, digits and `_`, not starting with a digit",
            ));
        }
        if out.iter().any(|(n, _, _)| n == name) {
            return Err(error(
                format!("column `{name}` is declared twice"),
                "give each column its own name",
            ));
        }
        let ty = match field.get("type") {
            Some(Value::String(t)) => type_of(t).ok_or_else(|| {
                error(
                    format!("column `{name}` has the type `{t}`, which a block does not know"),
                    "the types are boolean, integer, long, float, double, string, binary, date and timestamp (or the DSL's names)",
                )
            })?,
            Some(Value::Object(_)) => {
                return Err(error(
                    format!("column `{name}` has a nested type (struct, array or map)"),
                    "nested columns are not supported yet: flatten them into columns of their own",
                ));
            }
            _ => {
                return Err(error(
                    format!("column `{name}` has no `type`"),
                    "give every field a \"type\", such as \"string\"",
                ));
            }
        };
        let nullable = match field.get("nullable") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(error(
                    format!("`nullable` of column `{name}` is not true or false"),
                    "write \"nullable\": true",
                ));
            }
        };
        out.push((name.to_string(), ty, nullable));
    }
    Ok(out)
}

fn is_column_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(name, "_" | "self" | "Self" | "super" | "crate")
}

/// A Spark type name, or one of the DSL's.
fn type_of(name: &str) -> Option<DslType> {
    Some(match name {
        "boolean" => DslType::Bool,
        "integer" => DslType::I32,
        "long" => DslType::I64,
        "float" => DslType::F32,
        "double" => DslType::F64,
        "timestamp" => DslType::TimestampUs,
        other => return DslType::from_name(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_schema_json_maps_to_the_dsl_types() {
        let fields = parse(
            r#"{"type":"struct","fields":[
                {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
                {"name":"user","type":"string","nullable":false,"metadata":{}},
                {"name":"n","type":"long"},
                {"name":"ok","type":"boolean","nullable":false},
                {"name":"ms","type":"timestamp_ms","nullable":false}
            ]}"#,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            fields,
            [
                ("ts".to_string(), DslType::TimestampUs, true),
                ("user".to_string(), DslType::String, false),
                ("n".to_string(), DslType::I64, true),
                ("ok".to_string(), DslType::Bool, false),
                ("ms".to_string(), DslType::TimestampMs, false),
            ]
        );
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        let message = |text: &str| parse(text).err().map(|e| e.message).unwrap_or_default();
        assert!(message("{").contains("not JSON (line 1"));
        assert!(message(r#"{"type":"struct"}"#).contains("no `fields`"));
        assert!(
            message(r#"{"fields":[{"name":"a","type":"decimal(10,2)"}]}"#)
                .contains("`a` has the type `decimal(10,2)`")
        );
        assert!(message(r#"{"fields":[{"name":"a","type":{"type":"array"}}]}"#).contains("nested"));
        assert!(
            message(r#"{"fields":[{"name":"a","type":"long"},{"name":"a","type":"long"}]}"#)
                .contains("declared twice")
        );
        assert!(message(r#"{"fields":[{"name":"a b","type":"long"}]}"#).contains("`a b`"));
        assert!(message(r#"{"fields":[]}"#).contains("no fields"));
    }
}
