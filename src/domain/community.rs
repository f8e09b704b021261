//! Community names as people write them: `影佳`, `影佳社区`, `影佳居委会` and
//! `影佳居民委员会` all name the same community.

/// Endings that say what kind of body a community is rather than which one, longest first
/// so that `居委会` is taken whole before `居委`.
const SUFFIXES: [&str; 8] = [
    "居民委员会",
    "村民委员会",
    "居委会",
    "村委会",
    "社区",
    "居委",
    "村委",
    "委员会",
];

/// The key two names of one community share: white space (also full-width) and the
/// body's ending dropped, full-width letters and digits folded. A name that is nothing but
/// an ending keeps it, so no name folds to nothing.
pub fn match_key(name: &str) -> String {
    let mut key = super::fold_width(name);
    // `影佳社区居委会`: the ending may itself follow an ending.
    'strip: loop {
        for suffix in SUFFIXES {
            if let Some(stem) = key.strip_suffix(suffix)
                && !stem.is_empty()
            {
                key = stem.to_string();
                continue 'strip;
            }
        }
        break key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_community_written_with_its_body_or_spaces_is_the_same_community() {
        for written in [
            "影佳",
            "影佳社区",
            "影佳居委",
            "影佳居委会",
            "影佳居民委员会",
            "影佳村委会",
            " 影佳社区 ",
            "\u{3000}影佳居委会\u{3000}",
            "影佳社区居委会",
        ] {
            assert_eq!(match_key(written), "影佳", "{written:?}");
        }
    }

    #[test]
    fn different_communities_stay_different_and_no_name_folds_to_nothing() {
        assert_ne!(match_key("影佳"), match_key("祥东社区"));
        assert_eq!(match_key("虬长路"), "虬长路");
        assert_eq!(match_key("社区"), "社区");
        assert_eq!(match_key("ＡＢ村委会"), "AB");
    }
}
