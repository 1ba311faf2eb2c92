//! Parsers of the golden outputs in `samples/gcdump/golden/`.

/// One row of a PerfView By Name section.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewRow {
    /// Exc %.
    pub exc_pct: f64,
    /// Exc (bytes).
    pub exc: f64,
    /// Exc Ct.
    pub exc_count: f64,
    /// Inc %.
    pub inc_pct: f64,
    /// Inc.
    pub inc: f64,
    /// Inc Ct.
    pub inc_count: f64,
    /// Fold.
    pub fold: f64,
    /// Fold Ct.
    pub fold_count: f64,
    /// Frame name.
    pub name: String,
}

/// A By Name section of a `.view.txt` file.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSection {
    /// The `## ` heading.
    pub title: String,
    /// `Totals Metric`.
    pub total_metric: f64,
    /// `Count`.
    pub total_count: f64,
    /// `By Name rows`.
    pub by_name_rows: usize,
    /// The rows listed.
    pub rows: Vec<ViewRow>,
}

fn number(s: &str) -> f64 {
    s.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// Splits off `n` whitespace-separated tokens; returns them and the rest
/// (leading whitespace removed, inner spacing kept).
fn tokens(line: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut rest = line;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    Some((out, rest.trim_start()))
}

/// Parses every By Name section of a `.view.txt` file (sections whose
/// first line is a `Totals Metric` line).
pub fn parse_view(text: &str) -> Vec<ViewSection> {
    let mut sections = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(title) = line.strip_prefix("## ") else {
            continue;
        };
        let Some(totals) = lines.peek().copied() else {
            break;
        };
        let Some(t) = totals.strip_prefix("Totals Metric: ") else {
            continue;
        };
        lines.next();
        let metric = t.split_whitespace().next().unwrap();
        let count = t
            .split("Count: ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let rows_n = t
            .split("By Name rows: ")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap();
        let header = lines.next().unwrap_or_default();
        assert!(header.trim_start().starts_with("Exc%"), "header: {header}");
        let mut rows = Vec::new();
        while let Some(l) = lines.peek() {
            if l.starts_with("## ") || l.trim().is_empty() {
                break;
            }
            let (t, name) = tokens(l, 8).unwrap_or_else(|| panic!("bad row: {l}"));
            rows.push(ViewRow {
                exc_pct: number(t[0]),
                exc: number(t[1]),
                exc_count: number(t[2]),
                inc_pct: number(t[3]),
                inc: number(t[4]),
                inc_count: number(t[5]),
                fold: number(t[6]),
                fold_count: number(t[7]),
                name: name.to_owned(),
            });
            lines.next();
        }
        sections.push(ViewSection {
            title: title.to_owned(),
            total_metric: number(metric),
            total_count: number(count),
            by_name_rows: rows_n.parse().unwrap(),
            rows,
        });
    }
    sections
}

/// The totals of a `dotnet-gcdump report` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportTotals {
    /// `GC Heap bytes`.
    pub heap_bytes: u64,
    /// `GC Heap objects`.
    pub heap_objects: u64,
    /// `Total references`, if printed.
    pub references: Option<u64>,
}

/// Parses the totals of a `.report-linux.txt` file.
pub fn parse_report(text: &str) -> ReportTotals {
    let find = |label: &str| {
        text.lines()
            .find(|l| l.trim_end().ends_with(label))
            .map(|l| number(l.split_whitespace().next().unwrap()) as u64)
    };
    ReportTotals {
        heap_bytes: find("GC Heap bytes").expect("GC Heap bytes"),
        heap_objects: find("GC Heap objects").expect("GC Heap objects"),
        references: find("Total references"),
    }
}

/// A node of PerfView's XML rendering of a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlNode {
    /// Node index.
    pub index: u32,
    /// Type index.
    pub type_index: u32,
    /// Size.
    pub size: u64,
    /// Address.
    pub address: u64,
    /// Children in order.
    pub children: Vec<u32>,
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    let end = tag[start..].find('"').unwrap() + start;
    &tag[start..end]
}

/// Undoes XML escapes.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Parses PerfView's `XmlGcHeapDump` rendering: type names by index and nodes.
pub fn parse_graph_xml(text: &str) -> (Vec<String>, Vec<XmlNode>) {
    let mut types = Vec::new();
    let mut nodes: Vec<XmlNode> = Vec::new();
    let mut open: Option<XmlNode> = None;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("<NodeType ") {
            let idx: usize = attr(l, "Index").parse().unwrap();
            assert_eq!(idx, types.len());
            types.push(unescape(attr(l, "Name")));
        } else if l.starts_with("<Node ") {
            let hex = attr(l, "Address").trim_start_matches("0x");
            let node = XmlNode {
                index: attr(l, "Index").parse().unwrap(),
                type_index: attr(l, "TypeIndex").parse().unwrap(),
                size: attr(l, "Size").parse().unwrap(),
                address: u64::from_str_radix(hex, 16).unwrap(),
                children: Vec::new(),
            };
            if l.ends_with("/>") {
                nodes.push(node);
            } else {
                open = Some(node);
            }
        } else if let Some(node) = open.as_mut() {
            let (nums, closed) = match l.find("</Node>") {
                Some(i) => (&l[..i], true),
                None => (l, false),
            };
            node.children
                .extend(nums.split_whitespace().map(|t| t.parse::<u32>().unwrap()));
            if closed {
                nodes.push(open.take().unwrap());
            }
        }
    }
    (types, nodes)
}

/// A `*.parents.txt` file: the spanning tree's parents (`-1` for none, the
/// node count for `[not reachable from roots]`) and the visit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenParents {
    /// Parent of each node, in node order.
    pub parents: Vec<i64>,
    /// Nodes in visit order.
    pub order: Vec<u32>,
}

/// Parses a `*.parents.txt` file.
pub fn parse_parents(text: &str) -> GoldenParents {
    let mut parents = Vec::new();
    let mut order = Vec::new();
    let mut in_order = false;
    for line in text.lines() {
        if line.starts_with("# visit order") {
            in_order = true;
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if in_order {
            order.push(
                line.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("bad line {line:?}")),
            );
        } else {
            let mut it = line.split_whitespace();
            let node: usize = it.next().unwrap().parse().unwrap();
            assert_eq!(node, parents.len(), "nodes out of order");
            parents.push(it.next().unwrap().parse().unwrap());
        }
    }
    GoldenParents { parents, order }
}

/// One line of a RefTree section.
#[derive(Debug, Clone, PartialEq)]
pub struct RefTreeLine {
    /// Depth below ROOT (ROOT is 0).
    pub depth: usize,
    /// Frame name.
    pub name: String,
    /// Inc.
    pub inc: f64,
    /// Inc Ct.
    pub inc_count: f64,
    /// Exc.
    pub exc: f64,
    /// Exc Ct.
    pub exc_count: f64,
}

/// Parses the RefTree section of a `.view.txt` file (the section whose
/// title starts with `RefTree`).
pub fn parse_ref_tree(text: &str) -> Vec<RefTreeLine> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            inside = title.starts_with("RefTree");
            continue;
        }
        if !inside || line.trim().is_empty() {
            continue;
        }
        let depth = (line.len() - line.trim_start().len()) / 2;
        let body = line.trim_start();
        let at = body
            .rfind("  Inc=")
            .unwrap_or_else(|| panic!("bad RefTree line {line:?}"));
        let mut fields = std::collections::HashMap::new();
        for kv in body[at..].split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            fields.insert(k, number(v));
        }
        out.push(RefTreeLine {
            depth,
            name: body[..at].to_owned(),
            inc: fields["Inc"],
            inc_count: fields["IncCt"],
            exc: fields["Exc"],
            exc_count: fields["ExcCt"],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_view_section() {
        let text = "# file x\n## raw\nTotals Metric: 1,780,688.0  Count: 27,570.0   (By Name rows: 3266; ROOT row present: True)\n    Exc%            Exc      ExcCt     Inc%            Inc      IncCt           Fold     FoldCt  Name\n   16.02         285248       4174    16.02         285248       4174              0          0  System.Private.CoreLib!String\n    0.10            40          1     0.10             40          1              0          0  (Type  Foo <|a b|>)\n## next\n";
        let s = parse_view(text);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].total_metric, 1_780_688.0);
        assert_eq!(s[0].total_count, 27_570.0);
        assert_eq!(s[0].by_name_rows, 3266);
        assert_eq!(s[0].rows[0].name, "System.Private.CoreLib!String");
        assert_eq!(s[0].rows[0].exc_count, 4174.0);
        assert_eq!(s[0].rows[1].name, "(Type  Foo <|a b|>)");
    }

    #[test]
    fn parses_parents_and_ref_tree() {
        let p = parse_parents("# node parent (-1 = none; 3 = [not reachable from roots]); then visit order\n0 -1\n1 0\n2 3\n# visit order\n0\n1\n2\n");
        assert_eq!(p.parents, vec![-1, 0, 3]);
        assert_eq!(p.order, vec![0, 1, 2]);
        let t = parse_ref_tree("## RefTree x\nROOT  Inc=10 IncCt=2 Exc=0 ExcCt=0\n  [a  b]  Inc=10 IncCt=2 Exc=1,000 ExcCt=1\n## next\n");
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[1].depth, t[1].name.as_str(), t[1].exc),
            (1, "[a  b]", 1000.0)
        );
    }
}
