//! The programme's rates, each with one definition: the one the plan sets a target for,
//! and the one that only watches uploads. Pages, the monthly report and the README say the
//! same words.

/// A rate people compare across communities.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Its name on pages and in reports.
    pub name: &'static str,
    /// What it counts, in one sentence.
    pub definition: &'static str,
    /// The plan's target, for the rate that has one.
    pub target: Option<f64>,
}

/// 事前报备率: the plan's 二房东事前报备/自主申报率 ≥ 95%.
pub const FILING: Rate = Rate {
    name: "事前报备率",
    definition: "二房东出租的在租房屋中，在首次登记入住之前已完成事前报备的房屋所占比例（已报备、尚无人登记的房屋计为已报备）。计划目标：95% 以上。",
    target: Some(0.95),
};

/// 上传率: how many let units heard from their people this month; no target.
pub const UPLOAD: Rate = Rate {
    name: "上传率",
    definition: "在租房屋中，统计期内有租客或二房东上传（登记或确认人员无变化，不含民警核实）的房屋所占比例。用于发现长期无人上传的房屋，不设考核目标。",
    target: None,
};

impl Rate {
    /// Whether `value` reaches the target; none without a target or a value.
    pub fn met(&self, value: Option<f64>) -> Option<bool> {
        Some(value? >= self.target?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_filing_rate_has_a_target() {
        assert_eq!(FILING.met(Some(0.95)), Some(true));
        assert_eq!(FILING.met(Some(0.949)), Some(false));
        assert_eq!(FILING.met(None), None);
        assert_eq!(UPLOAD.met(Some(1.0)), None);
    }
}
