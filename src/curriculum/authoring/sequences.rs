//! A module's sequences as its `module.toml` lists them, read and changed by the editor: which
//! activities each holds, and an activity taken out. Pure.

/// `module.toml` without the activity `entry` (`lessons/x.md`…) in any of its sequences; a
/// sequence left empty goes too (the checks refuse an empty one). Refused when no sequence
/// lists it.
pub fn without_activity(text: &str, entry: &str) -> Result<String, String> {
    let mut doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let Some(sequences) = doc.get_mut("sequences").and_then(|s| s.as_array_mut()) else {
        return Err(format!(
            "« {entry} » ne figure dans aucune séquence du module."
        ));
    };
    let mut found = false;
    for seq in sequences.iter_mut() {
        if let Some(acts) = seq.get_mut("activities").and_then(|a| a.as_array_mut()) {
            let before = acts.len();
            acts.retain(|a| a.as_str() != Some(entry));
            found |= acts.len() != before;
        }
    }
    if !found {
        return Err(format!(
            "« {entry} » ne figure dans aucune séquence du module."
        ));
    }
    sequences.retain(|s| {
        s.get("activities")
            .and_then(|a| a.as_array())
            .is_some_and(|a| !a.is_empty())
    });
    toml::to_string_pretty(&doc).map_err(|e| e.to_string())
}

/// Whether `module.toml` still lists `entry` in a sequence.
pub fn lists(text: &str, entry: &str) -> bool {
    sequences(text)
        .iter()
        .any(|(_, acts)| acts.iter().any(|a| a == entry))
}

/// A module's sequences as its `module.toml` lists them: titles and entries.
pub fn sequences(text: &str) -> Vec<(String, Vec<String>)> {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|d| d.get("sequences")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let title = s
                .get("title")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_string();
            let acts = s
                .get("activities")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            (title, acts)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_leaves_its_sequence_and_an_emptied_sequence_goes() {
        let text = "code = \"M1\"\n\n[[sequences]]\ntitle = \"Un\"\nactivities = [\"lessons/a.md\", \"quizzes/q.toml\"]\n\n\
                    [[sequences]]\ntitle = \"Deux\"\nactivities = [\"lessons/b.md\"]\n";
        let out = without_activity(text, "lessons/b.md").unwrap();
        assert_eq!(sequences(&out).len(), 1);
        assert!(!lists(&out, "lessons/b.md") && lists(&out, "lessons/a.md"));
        let out = without_activity(&out, "lessons/a.md").unwrap();
        assert_eq!(
            sequences(&out),
            [("Un".to_string(), vec!["quizzes/q.toml".to_string()])]
        );
        assert!(out.starts_with("code = \"M1\""), "{out}");
        assert!(without_activity(&out, "lessons/a.md").is_err());
    }
}
