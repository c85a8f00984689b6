//! The stats view's plots (egui_plot): throughput and accuracy per annotator over UTC days, and
//! the verdict mix as bars.

use std::collections::BTreeMap;

use eframe::egui;

use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints, Points};

use crate::app::stats::{DailyPoint, StatsReport, format_day};
use crate::domain::{UserId, Verdict};

use super::review_state::{verdict_color, verdict_name};

const PLOT_HEIGHT: f32 = 190.0;

type Metric = (&'static str, fn(&DailyPoint) -> Option<f64>);

const THROUGHPUT: [Metric; 3] = [
    ("boxes per active hour", |d| d.boxes_per_hour),
    ("boxes made", |d| Some(d.boxes as f64)),
    ("documents submitted", |d| Some(d.docs_submitted as f64)),
];

fn first_pass(d: &DailyPoint) -> Option<f64> {
    (d.first_pass_reviewed > 0).then(|| d.first_pass_accepted as f64 / d.first_pass_reviewed as f64 * 100.0)
}

fn ok_share(d: &DailyPoint) -> Option<f64> {
    d.verdicts.ok_share().map(|x| x * 100.0)
}

pub fn plots_ui(ui: &mut egui::Ui, report: &StatsReport, metric: &mut usize) {
    let names: BTreeMap<UserId, String> = report.annotators.iter().map(|r| (r.user, r.name.clone())).collect();
    let width = ui.available_width();
    let half = ((width - 16.0) / 2.0).max(260.0);
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            ui.set_width(half);
            ui.horizontal(|ui| {
                ui.strong("Throughput over days");
                *metric = (*metric).min(THROUGHPUT.len() - 1);
                egui::ComboBox::new("stats_plot_metric", "").selected_text(THROUGHPUT[*metric].0).show_ui(ui, |ui| {
                    for (i, (name, _)) in THROUGHPUT.iter().enumerate() {
                        ui.selectable_value(metric, i, *name);
                    }
                });
            });
            series_plot(ui, "stats_throughput", report, &names, THROUGHPUT[*metric].1, half);
        });
        ui.vertical(|ui| {
            ui.set_width(half);
            ui.strong("Accuracy over days: first-pass acceptance, %");
            series_plot(ui, "stats_accuracy", report, &names, first_pass, half);
        });
    });
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            ui.set_width(half);
            ui.strong("Verdict mix (all annotators shown)");
            verdict_bars(ui, report, half);
        });
        ui.vertical(|ui| {
            ui.set_width(half);
            ui.strong("Boxes judged ok over days, %");
            series_plot(ui, "stats_ok_share", report, &names, ok_share, half);
        });
    });
}

fn series_plot(
    ui: &mut egui::Ui,
    id: &str,
    report: &StatsReport,
    names: &BTreeMap<UserId, String>,
    value: fn(&DailyPoint) -> Option<f64>,
    width: f32,
) {
    let mut series: BTreeMap<UserId, Vec<[f64; 2]>> = BTreeMap::new();
    for d in report.daily.iter().filter(|d| names.contains_key(&d.user)) {
        if let Some(v) = value(d) {
            series.entry(d.user).or_default().push([d.day as f64, v]);
        }
    }
    if series.is_empty() {
        ui.add_sized([width, PLOT_HEIGHT], egui::Label::new(egui::RichText::new(super::stats_ui::NO_DATA).weak()));
        return;
    }
    Plot::new(id.to_string())
        .height(PLOT_HEIGHT)
        .width(width)
        .legend(Legend::default())
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_formatter(|mark, _| format_day(mark.value.round() as i64))
        .show(ui, move |plot| {
            for (user, pts) in series {
                let name = names.get(&user).cloned().unwrap_or_default();
                plot.points(Points::new(name.clone(), PlotPoints::from(pts.clone())).radius(3.0));
                plot.line(Line::new(name, PlotPoints::from(pts)));
            }
        });
}

fn verdict_bars(ui: &mut egui::Ui, report: &StatsReport, width: f32) {
    let m = &report.verdict_mix;
    if m.total() == 0 {
        ui.add_sized([width, PLOT_HEIGHT], egui::Label::new(egui::RichText::new(super::stats_ui::NO_DATA).weak()));
        return;
    }
    let counts = [m.ok, m.wrong_box, m.wrong_label, m.wrong_text, m.missing, m.spurious];
    let bars: Vec<Bar> = Verdict::ALL
        .into_iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (v, n))| Bar::new(i as f64, n as f64).name(verdict_name(v)).fill(verdict_color(v)).width(0.7))
        .collect();
    Plot::new("stats_verdicts")
        .height(PLOT_HEIGHT)
        .width(width)
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_formatter(|mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() > 1e-6 || !(0.0..6.0).contains(&i) {
                return String::new();
            }
            verdict_name(Verdict::ALL[i as usize]).to_string()
        })
        .show(ui, move |plot| plot.bar_chart(BarChart::new("verdicts", bars)));
}

/// The share of suggested labels kept, week by week: all labels and the five most suggested.
pub fn label_kept_plot_ui(ui: &mut egui::Ui, s: &crate::app::stats::labels::LabelSuggestionStats) {
    use crate::app::stats::labels::ALL;
    let shown: Vec<&str> = std::iter::once(ALL).chain(s.per_label.iter().take(5).map(|r| r.label.as_str())).collect();
    ui.strong("Suggested labels kept, % by week");
    Plot::new("stats_label_kept")
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .include_y(0.0)
        .include_y(100.0)
        .x_axis_formatter(|m, _| format_day(m.value.round() as i64))
        .allow_scroll(false)
        .show(ui, |p| {
            for label in shown {
                let pts: Vec<[f64; 2]> = s
                    .weekly
                    .iter()
                    .filter(|w| w.label == label)
                    .filter_map(|w| Some([w.day as f64, w.kept_share? * 100.0]))
                    .collect();
                if pts.len() == 1 {
                    p.points(Points::new(label.to_string(), PlotPoints::from(pts)).radius(4.0));
                } else if !pts.is_empty() {
                    p.line(Line::new(label.to_string(), PlotPoints::from(pts)));
                }
            }
        });
}
