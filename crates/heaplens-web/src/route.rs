//! The view in the URL: which screen, which dumps (by file name and size),
//! which type, and the table's sort and filter, so Back and Forward move
//! inside the app, and a reload with the same files dropped again returns
//! to the same view.
//!
//! The route lives in the URL's fragment, `#/types?d=2951639:a.gcdump&dump=0&sort=count-desc&q=string`,
//! which the browser never sends to a server (file names can be private).
//! `d` lists the session's dumps as `size:name`; `dump`, `base` and `cur`
//! point into that list; `type` is a row's [`TypeId`] (the same whenever
//! this heaplens reads the same file); `group` is the table's grouping
//! (`namespace`, `assembly`, `interface`, `base`), `fold` and `foldpct`
//! the type table's folds (a pattern, a percentage) and `by=inclusive` the
//! flame graph's measure when it is not the retained size.

use crate::protocol::Folds;
use crate::table::{Sort, TableView};
use heaplens_results::flame::FlameMeasure;
use heaplens_results::groups::GroupKind;
use heaplens_results::{NodeId, TypeId};

/// Every grouping, to read one from its name.
const GROUPS: [GroupKind; 4] = [
    GroupKind::Namespace,
    GroupKind::Assembly,
    GroupKind::Interface,
    GroupKind::Base,
];

/// A dump as the URL names it: its file's name and size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DumpKey {
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A screen of the app, with dumps by their place in [`Route::dumps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The landing page.
    Landing,
    /// A dump's overview.
    Overview {
        /// The dump.
        dump: usize,
    },
    /// A dump's type table.
    Types {
        /// The dump.
        dump: usize,
    },
    /// One type of a dump: why it is alive.
    Detail {
        /// The dump.
        dump: usize,
        /// The type's row.
        type_id: TypeId,
    },
    /// A dump's flame graph.
    Flame {
        /// The dump.
        dump: usize,
    },
    /// A type's objects.
    Instances {
        /// The dump.
        dump: usize,
        /// The type's row.
        type_id: TypeId,
    },
    /// One object (the inspector).
    Object {
        /// The dump.
        dump: usize,
        /// The object.
        node: NodeId,
    },
    /// Duplicate strings (the search in the filter `q`, the duplicates' sort
    /// in `sort`).
    Strings {
        /// The dump.
        dump: usize,
    },
    /// Wasted collections.
    Waste {
        /// The dump.
        dump: usize,
    },
    /// Leak findings.
    Findings {
        /// The dump.
        dump: usize,
    },
    /// The comparison of two dumps.
    Compare {
        /// The baseline.
        base: usize,
        /// The current dump.
        current: usize,
    },
}

/// Everything the URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The screen.
    pub screen: Screen,
    /// The session's dumps.
    pub dumps: Vec<DumpKey>,
    /// The sort and filter of the screen's table (the type table for a
    /// dump's screens, the waste table for its waste, the comparison's
    /// table for a comparison).
    pub table: TableView,
    /// The grouping of the screen's table (`None`: one row per type).
    pub group: Option<GroupKind>,
    /// The flame graph's measure (a dump's flame graph, the comparison's).
    pub flame_by: FlameMeasure,
    /// The type table's folds.
    pub fold: Folds,
}

impl Route {
    /// The landing page with no dumps.
    pub fn landing() -> Route {
        Route {
            screen: Screen::Landing,
            dumps: Vec::new(),
            table: TableView::default(),
            group: None,
            flame_by: FlameMeasure::Retained,
            fold: Folds::default(),
        }
    }

    /// The URL fragment, `#` included; empty for the landing page.
    pub fn to_fragment(&self) -> String {
        let path = match self.screen {
            Screen::Landing if self.dumps.is_empty() => return String::new(),
            Screen::Landing => "",
            Screen::Overview { .. } => "overview",
            Screen::Types { .. } => "types",
            Screen::Detail { .. } => "detail",
            Screen::Instances { .. } => "instances",
            Screen::Object { .. } => "object",
            Screen::Strings { .. } => "strings",
            Screen::Waste { .. } => "waste",
            Screen::Findings { .. } => "findings",
            Screen::Compare { .. } => "compare",
            Screen::Flame { .. } => "flame",
        };
        let mut q = form_urlencoded::Serializer::new(String::new());
        for d in &self.dumps {
            q.append_pair("d", &format!("{}:{}", d.size, d.name));
        }
        match self.screen {
            Screen::Landing => {}
            Screen::Overview { dump }
            | Screen::Types { dump }
            | Screen::Flame { dump }
            | Screen::Strings { dump }
            | Screen::Waste { dump }
            | Screen::Findings { dump } => {
                q.append_pair("dump", &dump.to_string());
            }
            Screen::Object { dump, node } => {
                q.append_pair("dump", &dump.to_string());
                q.append_pair("node", &node.0.to_string());
            }
            Screen::Detail { dump, type_id } | Screen::Instances { dump, type_id } => {
                q.append_pair("dump", &dump.to_string());
                q.append_pair("type", &type_id.0.to_string());
            }
            Screen::Compare { base, current } => {
                q.append_pair("base", &base.to_string());
                q.append_pair("cur", &current.to_string());
            }
        }
        if let Some(s) = &self.table.sort {
            q.append_pair("sort", &s.to_param());
        }
        if !self.table.filter.is_empty() {
            q.append_pair("q", &self.table.filter);
        }
        if let Some(g) = self.group {
            q.append_pair("group", g.as_str());
        }
        if self.flame_by != FlameMeasure::Retained {
            q.append_pair("by", self.flame_by.as_str());
        }
        if !self.fold.pattern.is_empty() {
            q.append_pair("fold", &self.fold.pattern);
        }
        if let Some(p) = self.fold.min_percent {
            q.append_pair("foldpct", &p.to_string());
        }
        format!("#/{path}?{}", q.finish())
    }

    /// Reads a URL fragment (with or without its `#`); anything it cannot
    /// read is left out, and a screen that points past the dumps is the
    /// landing page.
    pub fn parse(fragment: &str) -> Route {
        let f = fragment.trim_start_matches('#').trim_start_matches('/');
        let (path, query) = f.split_once('?').unwrap_or((f, ""));
        let mut route = Route::landing();
        let (mut dump, mut base, mut cur, mut type_id) = (None, None, None, None);
        let mut node = None;
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let num = || v.parse::<usize>().ok();
            match &*k {
                "d" => {
                    if let Some((size, name)) = v.split_once(':') {
                        if let Ok(size) = size.parse() {
                            route.dumps.push(DumpKey {
                                name: name.to_owned(),
                                size,
                            });
                        }
                    }
                }
                "dump" => dump = num(),
                "base" => base = num(),
                "cur" => cur = num(),
                "type" => type_id = v.parse::<u32>().ok().map(TypeId),
                "node" => node = v.parse::<u32>().ok().map(NodeId),
                "sort" => route.table.sort = Sort::from_param(&v),
                "q" => route.table.filter = v.into_owned(),
                "group" => route.group = GROUPS.into_iter().find(|g| g.as_str() == v),
                "fold" => route.fold.pattern = v.into_owned(),
                "foldpct" => {
                    route.fold.min_percent = v.parse::<f64>().ok().filter(|p| p.is_finite())
                }
                "by" if v == FlameMeasure::Inclusive.as_str() => {
                    route.flame_by = FlameMeasure::Inclusive
                }
                _ => {}
            }
        }
        let n = route.dumps.len();
        let ok = |i: Option<usize>| i.filter(|&i| i < n);
        route.screen = match (path, ok(dump), ok(base), ok(cur), type_id) {
            ("overview", Some(dump), ..) => Screen::Overview { dump },
            ("types", Some(dump), ..) => Screen::Types { dump },
            ("flame", Some(dump), ..) => Screen::Flame { dump },
            ("detail", Some(dump), _, _, Some(type_id)) => Screen::Detail { dump, type_id },
            ("detail", Some(dump), ..) => Screen::Types { dump },
            ("instances", Some(dump), _, _, Some(type_id)) => Screen::Instances { dump, type_id },
            ("instances", Some(dump), ..) => Screen::Types { dump },
            ("object", Some(dump), ..) => match node {
                Some(node) => Screen::Object { dump, node },
                None => Screen::Overview { dump },
            },
            ("strings", Some(dump), ..) => Screen::Strings { dump },
            ("waste", Some(dump), ..) => Screen::Waste { dump },
            ("findings", Some(dump), ..) => Screen::Findings { dump },
            ("compare", _, Some(base), Some(current), _) if base != current => {
                Screen::Compare { base, current }
            }
            _ => Screen::Landing,
        };
        route
    }

    /// True when `other` is another place to go (another screen, dump or
    /// type), not the same place with another sort or filter or more or
    /// fewer dumps open beside it: the former is a new history entry, the
    /// latter replaces the current one (so Back past an added dump does
    /// not cut off Forward).
    pub fn is_other_place(&self, other: &Route) -> bool {
        self.place() != other.place()
    }

    /// The screen with its dumps by key.
    fn place(&self) -> (u8, Vec<Option<&DumpKey>>, Option<u32>) {
        let key = |i: usize| self.dumps.get(i);
        match self.screen {
            Screen::Landing => (0, Vec::new(), None),
            Screen::Overview { dump } => (1, vec![key(dump)], None),
            Screen::Types { dump } => (2, vec![key(dump)], None),
            Screen::Detail { dump, type_id } => (3, vec![key(dump)], Some(type_id.0)),
            Screen::Compare { base, current } => (4, vec![key(base), key(current)], None),
            Screen::Flame { dump } => (5, vec![key(dump)], None),
            Screen::Instances { dump, type_id } => (6, vec![key(dump)], Some(type_id.0)),
            Screen::Object { dump, node } => (7, vec![key(dump)], Some(node.0)),
            Screen::Strings { dump } => (8, vec![key(dump)], None),
            Screen::Waste { dump } => (9, vec![key(dump)], None),
            Screen::Findings { dump } => (10, vec![key(dump)], None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, size: u64) -> DumpKey {
        DumpKey {
            name: name.into(),
            size,
        }
    }

    #[test]
    fn routes_round_trip_through_the_fragment() {
        let routes = [
            Route::landing(),
            Route {
                screen: Screen::Detail {
                    dump: 1,
                    type_id: TypeId(1048),
                },
                dumps: vec![key("a b&c=d.gcdump", 12), key("x:y#z?.dmp", 4_500_000_000)],
                table: TableView {
                    sort: Some(Sort::new("count", true)),
                    filter: "List<Int32> & more".into(),
                },
                ..Route::landing()
            },
            Route {
                screen: Screen::Compare {
                    base: 1,
                    current: 0,
                },
                dumps: vec![key("n.core", 1), key("m.core", 2)],
                table: TableView::default(),
                ..Route::landing()
            },
            Route {
                screen: Screen::Landing,
                dumps: vec![key("kept.gcdump", 9)],
                table: TableView::default(),
                ..Route::landing()
            },
            Route {
                screen: Screen::Object {
                    dump: 0,
                    node: NodeId(123_456),
                },
                dumps: vec![key("a.core", 9)],
                table: TableView::default(),
                ..Route::landing()
            },
            Route {
                screen: Screen::Instances {
                    dump: 0,
                    type_id: TypeId(7),
                },
                dumps: vec![key("a.core", 9)],
                table: TableView::default(),
                ..Route::landing()
            },
            Route {
                screen: Screen::Strings { dump: 0 },
                dumps: vec![key("a.core", 9)],
                table: TableView {
                    sort: None,
                    filter: "http://".into(),
                },
                ..Route::landing()
            },
            Route {
                screen: Screen::Waste { dump: 0 },
                dumps: vec![key("a.core", 9)],
                table: TableView::default(),
                ..Route::landing()
            },
            Route {
                screen: Screen::Types { dump: 0 },
                dumps: vec![key("a.core", 9)],
                table: TableView::default(),
                group: Some(GroupKind::Interface),
                flame_by: FlameMeasure::Retained,
                fold: Folds::default(),
            },
            Route {
                screen: Screen::Types { dump: 0 },
                dumps: vec![key("a.core", 9)],
                table: TableView::default(),
                fold: Folds {
                    pattern: r"\[\]$|^System\.(String|Byte) & more".into(),
                    min_percent: Some(0.5),
                },
                ..Route::landing()
            },
            Route {
                screen: Screen::Compare {
                    base: 0,
                    current: 1,
                },
                dumps: vec![key("a.core", 9), key("b.core", 10)],
                table: TableView::default(),
                group: Some(GroupKind::Namespace),
                flame_by: FlameMeasure::Inclusive,
                fold: Folds::default(),
            },
            Route {
                screen: Screen::Findings { dump: 0 },
                dumps: vec![key("a.core", 9)],
                table: TableView::default(),
                ..Route::landing()
            },
        ];
        for r in routes {
            let f = r.to_fragment();
            assert_eq!(Route::parse(&f), r, "{f}");
        }
        assert_eq!(Route::landing().to_fragment(), "");
        let f = Route {
            screen: Screen::Types { dump: 0 },
            dumps: vec![key("a.gcdump", 7)],
            table: TableView::default(),
            ..Route::landing()
        }
        .to_fragment();
        assert_eq!(f, "#/types?d=7%3Aa.gcdump&dump=0");
        // The grouping and the measure by name; the defaults left out.
        let r = Route::parse("#/flame?d=7:a.gcdump&dump=0&group=assembly&by=inclusive");
        assert_eq!(
            (r.group, r.flame_by),
            (Some(GroupKind::Assembly), FlameMeasure::Inclusive)
        );
        let r = Route::parse("#/flame?d=7:a.gcdump&dump=0&group=nonsense&by=retained");
        assert_eq!((r.group, r.flame_by), (None, FlameMeasure::Retained));
    }

    #[test]
    fn what_cannot_be_read_is_left_out() {
        // A dump index past the list, a bad size, an unknown sort.
        let r = Route::parse("#/types?d=x:a&d=5:b&dump=3&sort=bytes");
        assert_eq!(r.dumps, [key("b", 5)]);
        assert_eq!(r.screen, Screen::Landing);
        assert_eq!(r.table.sort, None);
        // A detail without a type is the type table.
        let r = Route::parse("#/detail?d=5:b&dump=0");
        assert_eq!(r.screen, Screen::Types { dump: 0 });
        // A comparison of a dump with itself is no comparison.
        assert_eq!(
            Route::parse("#/compare?d=5:b&base=0&cur=0").screen,
            Screen::Landing
        );
        assert_eq!(Route::parse("").screen, Screen::Landing);
        assert_eq!(Route::parse("#garbage").screen, Screen::Landing);
    }

    #[test]
    fn sort_and_filter_replace_the_entry_other_places_push() {
        let a = Route::parse("#/types?d=5:b&dump=0");
        let mut b = a.clone();
        b.table.filter = "str".into();
        assert!(!a.is_other_place(&b));
        // Another grouping or measure: the same place.
        b.group = Some(GroupKind::Base);
        b.flame_by = FlameMeasure::Inclusive;
        assert!(!a.is_other_place(&b));
        // Another dump open beside it: the same place.
        b.dumps.insert(0, key("new.gcdump", 1));
        b.screen = Screen::Types { dump: 1 };
        assert!(!a.is_other_place(&b));
        b.screen = Screen::Overview { dump: 1 };
        assert!(a.is_other_place(&b));
    }
}
