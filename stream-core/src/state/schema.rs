//! `state/<operator>/_metadata/schema`: the key and value schemas an operator's state was
//! written with, checked on every load.
//!
//! ```text
//! v1
//! {"key": <arrow schema JSON>, "value": <arrow schema JSON>}
//! ```

use std::collections::HashMap;
use std::path::Path;

use arrow_schema::{Field, Schema};
use serde::{Deserialize, Serialize};

use super::layout::StateDir;
use crate::checkpoint::atomic::{create_dir_synced, write_atomic};
use crate::checkpoint::{FORMAT_VERSION, parse_versioned};
use crate::types::TypedRow;
use crate::{Result, StreamError};

#[derive(Debug, Serialize, Deserialize)]
struct SchemaRecord {
    key: Schema,
    value: Schema,
}

/// Compares the recorded schemas with `key` and `value`. `Ok(false)` when nothing is
/// recorded yet; a difference is a [`StreamError::StateSchemaMismatch`] that names each
/// column that differs.
pub(crate) fn check(dir: &StateDir, key: &Schema, value: &Schema) -> Result<bool> {
    let path = dir.schema_path();
    let Some(record) = read(dir)? else {
        return Ok(false);
    };
    let mut found = differences("key", &record.key, key);
    found.extend(differences("value", &record.value, value));
    if found.is_empty() {
        return Ok(true);
    }
    Err(StreamError::StateSchemaMismatch {
        operator: dir.operator.clone(),
        path,
        message: found.join("; "),
    })
}

/// Checks, when a query starts, that the state `operator` keeps in `checkpoint` (if
/// any) was written with `K`'s and `V`'s columns: the check every store of the
/// operator makes when it opens, made before anything is written.
pub(crate) fn check_operator<K: TypedRow, V: TypedRow>(
    checkpoint: &Path,
    operator: &str,
) -> Result<()> {
    let dir = StateDir::new(checkpoint, operator, 0)?;
    check(&dir, &K::arrow_schema(), &V::arrow_schema()).map(|_| ())
}

/// The recorded schemas, `None` when there are none; a file that cannot be read or
/// parsed is an error naming it.
fn read(dir: &StateDir) -> Result<Option<SchemaRecord>> {
    let path = dir.schema_path();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StreamError::io(&path, e)),
    };
    let text =
        String::from_utf8(bytes).map_err(|_| StreamError::corrupt(&path, "is not valid UTF-8"))?;
    let lines = parse_versioned(&path, &text)?;
    let record: SchemaRecord = serde_json::from_str(lines.first().map_or("", |l| l))
        .map_err(|e| StreamError::corrupt(&path, format!("cannot be parsed: {e}")))?;
    Ok(Some(record))
}

/// The recorded key and value schemas, `None` when there are none.
pub(crate) fn read_schemas(dir: &StateDir) -> Result<Option<(Schema, Schema)>> {
    Ok(read(dir)?.map(|r| (r.key, r.value)))
}

/// Whether the schema file is there, after checking that it can be read and parsed.
pub(crate) fn recorded(dir: &StateDir) -> Result<bool> {
    Ok(read(dir)?.is_some())
}

/// Records `key` and `value` as the operator's schemas. Every partition of an operator
/// writes the same bytes, so racing writers are harmless.
pub(crate) fn write(dir: &StateDir, key: &Schema, value: &Schema) -> Result<()> {
    let path = dir.schema_path();
    let record = SchemaRecord {
        key: Schema::new(key.fields().clone()),
        value: Schema::new(value.fields().clone()),
    };
    let json = serde_json::to_string(&record)
        .map_err(|e| StreamError::InvalidQuery(format!("state schema cannot be written: {e}")))?;
    if let Some(parent) = path.parent() {
        create_dir_synced(parent)?;
    }
    write_atomic(&path, format!("v{FORMAT_VERSION}\n{json}").as_bytes(), true)
}

fn describe(field: &Field) -> String {
    format!(
        "{}{}",
        field.data_type(),
        if field.is_nullable() { "" } else { " not null" }
    )
}

/// Every difference between the `side` ("key"/"value") columns recorded and now.
fn differences(side: &str, recorded: &Schema, now: &Schema) -> Vec<String> {
    let was: HashMap<&str, &Field> = recorded
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.as_ref()))
        .collect();
    let is: HashMap<&str, &Field> = now
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.as_ref()))
        .collect();
    let mut out = Vec::new();
    for f in recorded.fields() {
        match is.get(f.name().as_str()) {
            None => out.push(format!(
                "{side} column `{}` ({}) was removed",
                f.name(),
                describe(f)
            )),
            Some(n) if n.data_type() != f.data_type() => out.push(format!(
                "{side} column `{}` changed type from {} to {}",
                f.name(),
                f.data_type(),
                n.data_type()
            )),
            Some(n) if n.is_nullable() != f.is_nullable() => out.push(format!(
                "{side} column `{}` changed from {} to {}",
                f.name(),
                describe(f),
                describe(n)
            )),
            Some(_) => {}
        }
    }
    for f in now.fields() {
        if !was.contains_key(f.name().as_str()) {
            out.push(format!(
                "{side} column `{}` ({}) was added",
                f.name(),
                describe(f)
            ));
        }
    }
    let names = |s: &Schema| {
        s.fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
    };
    if out.is_empty() && names(recorded) != names(now) {
        out.push(format!(
            "{side} columns were reordered from ({}) to ({})",
            names(recorded).join(", "),
            names(now).join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use arrow_schema::DataType;

    use super::*;

    fn schema(fields: &[(&str, DataType, bool)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t, null)| Field::new(*n, t.clone(), *null))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn written_schemas_match_themselves_and_differences_name_each_column() {
        let checkpoint = tempfile::tempdir().unwrap();
        let dir = StateDir::new(checkpoint.path(), "agg", 0).unwrap();
        let key = schema(&[("user", DataType::Utf8, false)]);
        let value = schema(&[
            ("count", DataType::Int64, false),
            ("sum", DataType::Float64, true),
        ]);
        assert!(!check(&dir, &key, &value).unwrap(), "nothing recorded yet");
        write(&dir, &key, &value).unwrap();
        assert!(check(&dir, &key, &value).unwrap());
        assert!(
            std::fs::read_to_string(dir.schema_path())
                .unwrap()
                .starts_with("v1\n{\"key\":")
        );

        let changed = schema(&[
            ("count", DataType::Utf8, false),
            ("avg", DataType::Float64, true),
        ]);
        let err = check(&dir, &key, &changed).unwrap_err();
        let StreamError::StateSchemaMismatch {
            operator,
            path,
            message,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(operator, "agg");
        assert_eq!(path, &dir.schema_path());
        assert_eq!(
            message,
            "value column `count` changed type from Int64 to Utf8; \
             value column `sum` (Float64) was removed; \
             value column `avg` (Float64) was added"
        );
        assert!(
            err.to_string().contains("use a new checkpoint location"),
            "{err}"
        );
    }

    #[test]
    fn nullability_and_order_changes_are_differences_too() {
        let a = schema(&[("a", DataType::Int64, false), ("b", DataType::Int32, false)]);
        let nullable = schema(&[("a", DataType::Int64, true), ("b", DataType::Int32, false)]);
        assert_eq!(
            differences("key", &a, &nullable),
            ["key column `a` changed from Int64 not null to Int64"]
        );
        let swapped = schema(&[("b", DataType::Int32, false), ("a", DataType::Int64, false)]);
        assert_eq!(
            differences("key", &a, &swapped),
            ["key columns were reordered from (a, b) to (b, a)"]
        );
        assert!(differences("key", &a, &a).is_empty());
    }

    #[test]
    fn a_damaged_schema_file_is_corrupt_naming_it() {
        let checkpoint = tempfile::tempdir().unwrap();
        let dir = StateDir::new(checkpoint.path(), "agg", 0).unwrap();
        std::fs::create_dir_all(dir.schema_path().parent().unwrap()).unwrap();
        std::fs::write(dir.schema_path(), "v1\n{\"key\":").unwrap();
        let s = schema(&[("a", DataType::Int64, false)]);
        let err = check(&dir, &s, &s).unwrap_err().to_string();
        assert!(
            err.contains("_metadata/schema") && err.contains("cannot be parsed"),
            "{err}"
        );
    }
}
