//! The tera filters that show dates and durations the French way (formats in
//! `base::format`). Stored times are naive UTC; people read Europe/Paris.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use tera::Value;

use crate::base::format::{date, datetime, minutes};
use crate::base::paris::paris_date;

fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

pub fn register(tera: &mut tera::Tera) {
    tera.register_filter(
        "fr_secs",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(|s| Value::String(minutes(s / 60)))
                .ok_or_else(|| tera::Error::msg("fr_secs: not a number"))
        },
    );
    tera.register_filter(
        "fr_date",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            let s = v.as_str().unwrap_or_default();
            if let Some(dt) = parse_datetime(s) {
                return Ok(Value::String(date(paris_date(dt))));
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Value::String(date(d)))
                .map_err(|_| tera::Error::msg(format!("fr_date: not a date: {s}")))
        },
    );
    tera.register_filter(
        "fr_datetime",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            let s = v.as_str().unwrap_or_default();
            parse_datetime(s)
                .map(|dt| Value::String(datetime(dt)))
                .ok_or_else(|| tera::Error::msg(format!("fr_datetime: not a date-time: {s}")))
        },
    );
    tera.register_filter(
        "fr_minutes",
        |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f.round() as i64))
                .map(|m| Value::String(minutes(m)))
                .ok_or_else(|| tera::Error::msg("fr_minutes: not a number"))
        },
    );
}
