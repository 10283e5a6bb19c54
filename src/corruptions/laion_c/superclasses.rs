//! LAION-C's 16 evaluation superclasses: `laionc/mappings/category_mapping.json` of
//! github.com/FanfeiLi/LAION-C (MIT, Copyright 2024 FanfeiLi; provenance in
//! fixtures/SOURCES.md), committed unchanged as `superclasses.json` next to this file.
//!
//! The evaluator (`laionc/evaluation.py`, torchvision `ImageFolder`) reads
//! `<distortion>/intensity_level_<s>/<superclass>/*.jpg` and scores a 1000-way model by
//! averaging its softmax over each superclass's ImageNet classes (285 wnids in all), so
//! `generate --layout laion-c` files every ImageNet source under the superclass of its wnid.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The mapping file, as published.
const JSON: &str = include_str!("superclasses.json");

fn table() -> &'static HashMap<String, &'static str> {
    static T: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    T.get_or_init(|| {
        let m: std::collections::BTreeMap<String, Vec<String>> =
            serde_json::from_str(JSON).expect("superclasses.json is valid JSON");
        let mut t = HashMap::new();
        for (class, wnids) in m {
            let class: &'static str = Box::leak(class.into_boxed_str());
            for w in wnids {
                t.insert(w, class);
            }
        }
        t
    })
}

/// The LAION-C superclass of an ImageNet wnid (`n01440764` → `fish`), `None` for the 715
/// classes the evaluator does not score.
pub fn superclass_of(wnid: &str) -> Option<&'static str> {
    table().get(wnid).copied()
}

/// The 16 superclass names, sorted (the folder list of every cell).
pub fn superclasses() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table().values().copied().collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_mapping() {
        assert_eq!(superclasses().len(), 16);
        assert_eq!(table().len(), 285);
        assert_eq!(superclass_of("n01440764"), Some("fish"));
        assert_eq!(superclass_of("n07742313"), Some("fruit"));
        assert_eq!(superclass_of("n00000000"), None);
        let dogs = table().values().filter(|c| **c == "dog").count();
        let birds = table().values().filter(|c| **c == "bird").count();
        assert_eq!((dogs, birds), (109, 49));
    }
}
