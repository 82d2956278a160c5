//! Strict-schema helpers shared by every input parser: an unknown field is an error that names
//! it and the closest known name, so a typo (`l1_sise`) can never silently leave a setting at
//! its default.

/// An enum chosen by name (objective, strategy, backend, PE draw): the CLI, sweep files, the
/// Python package and the examples all read it through this one list of names.
pub trait Named: Sized + Copy + 'static {
    /// Every value, in the order help texts list them.
    const ALL: &'static [Self];
    /// The name users write (`latency-area`, `upper-half`).
    fn name(self) -> &'static str;
    /// The value named `s` (case-insensitive), if any.
    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name().eq_ignore_ascii_case(s.trim()))
    }
    /// The names, for help texts and error messages.
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.name()).collect()
    }
}

/// The [`Named`] value `s` names, or serde's error listing the names.
fn named_value<T: Named, E: serde::de::Error>(s: &str) -> Result<T, E> {
    T::from_name(s)
        .ok_or_else(|| E::custom(format!("unknown value {s:?} (expected one of: {})", T::names().join(", "))))
}

/// Serde's reader of a [`Named`] value (case-insensitive; the error lists the names).
pub fn de_named<'de, D: serde::Deserializer<'de>, T: Named>(d: D) -> Result<T, D::Error> {
    named_value(&<String as serde::Deserialize>::deserialize(d)?)
}

/// [`de_named`] for an optional value (`null` is None).
pub fn de_named_opt<'de, D: serde::Deserializer<'de>, T: Named>(d: D) -> Result<Option<T>, D::Error> {
    <Option<String> as serde::Deserialize>::deserialize(d)?.map(|s| named_value(&s)).transpose()
}

/// The known name closest to `name` (case-insensitive Jaro-Winkler similarity of at least 0.7),
/// if any is close enough to be a likely typo.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `unknown field "x" (did you mean "y"?; known: a, b, c)`.
pub fn unknown_field(name: &str, known: &[&str]) -> String {
    let shown = truncate(name, 60);
    match closest(name, known) {
        Some(k) => format!("unknown field {shown:?} (did you mean {k:?}? known fields: {})", known.join(", ")),
        None => format!("unknown field {shown:?} (known fields: {})", known.join(", ")),
    }
}

/// Rewrites serde's `deny_unknown_fields` message ("unknown field `x`, expected one of `a`, `b`")
/// into [`unknown_field`]'s form, which also names the closest known field; any other message is
/// returned as it is.
pub fn suggest_in_serde_message(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((name, tail)) = rest.split_once('`') else {
        return msg.to_string();
    };
    // serde says "expected one of `a`, `b`", "expected `a` or `b`", "expected `a`" or "there are
    // no fields"; every back-quoted word after the name is a known field.
    let known: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
    if known.is_empty() {
        return msg.to_string();
    }
    unknown_field(name, &known)
}

/// 1-based line containing byte `offset` of `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// A top-level TOML key: its name, its line, its value.
pub type TomlKey<'a> = (String, usize, toml::de::DeValue<'a>);

/// The top-level keys of a flat TOML file in file order, each with its line and value, so the
/// first problem in the file is the one reported; a syntax error as its line and message.
pub fn toml_keys(text: &str) -> Result<Vec<TomlKey<'_>>, (usize, String)> {
    let table = toml::de::DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        (line, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let mut keys: Vec<_> = table
        .into_inner()
        .into_iter()
        .map(|(k, v)| (k.span().start, k.into_inner().into_owned(), v.into_inner()))
        .collect();
    keys.sort_by_key(|k| k.0);
    Ok(keys.into_iter().map(|(at, name, v)| (name, line_of(text, at), v)).collect())
}

/// A TOML integer or float as `f64` (integers in any radix), else `None`.
pub fn toml_number(v: &toml::de::DeValue) -> Option<f64> {
    match (v.as_float(), v.as_integer()) {
        (Some(f), _) => f.as_str().parse::<f64>().ok(),
        (_, Some(int)) => i64::from_str_radix(int.as_str(), int.radix()).ok().map(|n| n as f64),
        _ => None,
    }
}

/// At most `max` characters of `s`, with the full length said when cut: error messages must not
/// echo a 100 MB cell.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!("{}... ({} bytes in all)", &s[..at], s.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["l1_size", "l2_size", "num_pe", "noc_bw"];
        assert_eq!(closest("l1_sise", &known), Some("l1_size"));
        assert_eq!(closest("NUM_PE", &known), Some("num_pe"));
        assert_eq!(closest("zzzz", &known), None);
        assert!(unknown_field("l1_sise", &known).contains("did you mean \"l1_size\""));
    }

    #[test]
    fn serde_unknown_field_messages_get_a_suggestion() {
        let m = suggest_in_serde_message("unknown field `epoch`, expected one of `models`, `epochs`, `seeds`");
        assert!(m.contains("did you mean \"epochs\"") && m.contains("models, epochs, seeds"), "{m}");
        let m = suggest_in_serde_message("unknown field `nmu_pe`, expected `num_pe` or `l1_size`");
        assert!(m.contains("did you mean \"num_pe\""), "{m}");
        assert_eq!(suggest_in_serde_message("invalid type: string"), "invalid type: string");
        assert_eq!(
            suggest_in_serde_message("unknown field `x`, there are no fields"),
            "unknown field `x`, there are no fields"
        );
    }

    #[test]
    fn truncates_long_text() {
        let long = "x".repeat(10_000);
        let t = truncate(&long, 50);
        assert!(t.len() < 100 && t.contains("10000 bytes"), "{t}");
        assert_eq!(truncate("short", 50), "short");
        assert_eq!(truncate("ééé", 2), "éé... (6 bytes in all)");
    }
}
