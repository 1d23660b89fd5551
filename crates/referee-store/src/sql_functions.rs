//! SQL functions that both backends provide under the same name.

use diesel::sql_types::Text;

diesel::define_sql_function! {
    /// Lower-cases text (ASCII on SQLite, full Unicode on PostgreSQL).
    fn lower(value: Text) -> Text;
}

/// Builds a `LIKE` pattern that matches `needle` anywhere, lower-cased, with `%`, `_` and `\`
/// escaped; use it with `.like(…).escape('\\')` against `lower(column)`.
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for character in needle.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}
