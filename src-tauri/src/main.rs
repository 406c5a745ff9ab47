//! Muppet Studio, the desktop app. A thin Tauri 2 shell: it opens the store at
//! `MUPPET_HOME`, answers the web UI's commands by calling the library crates, and
//! supervises the `muppet worker` processes that train.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod annotations;
mod catalog;
mod commands;
mod demo;
mod error;
mod experiment_builder;
mod launches;
mod mixture;
mod paper_catalog;
mod paths;
mod settings;
mod state;
mod supervisor;
mod task_import;
#[cfg(test)]
mod test_support;

use state::StudioState;
use tauri::Manager;

fn main() {
    let state = tauri::async_runtime::block_on(StudioState::open_from_env());
    if let Err(reason) = state.store() {
        // The window still opens: the UI shows the same message in its error banner.
        eprintln!("muppet-studio: {}", reason.message());
    }
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .setup(|app| {
            let supervisor = app.state::<StudioState>().supervisor.clone();
            // Workers kept running when the app last closed are followed again before the
            // first page asks for the runs.
            if let Err(error) = tauri::async_runtime::block_on(supervisor.recover()) {
                eprintln!(
                    "muppet-studio: finding the workers of the last session: {}",
                    error.message()
                );
            }
            tauri::async_runtime::spawn(supervisor.forward_loop());
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing with runs in progress asks the UI what to do with them (keep them
            // running in the background, or cancel them); it answers with `quit_app`.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let supervisor = &window.state::<StudioState>().supervisor;
                let busy = supervisor.busy();
                if !busy.is_empty() {
                    api.prevent_close();
                    supervisor.close_requested(busy);
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::studio_info,
            commands::app::get_settings,
            commands::app::save_settings,
            commands::tasks::list_tasks,
            commands::tasks::task_preview,
            commands::tasks::mixture_summary,
            commands::tasks::task_token_lengths,
            commands::tasks::estimate_run_time,
            commands::tasks::import_task,
            commands::tasks::delete_tasks,
            commands::tasks::paper_catalog,
            commands::tasks::add_paper_task,
            commands::runs::list_runs,
            commands::runs::run_columns,
            commands::runs::filter_runs,
            commands::runs::group_runs,
            commands::runs::run_importance,
            commands::runs::run_detail,
            commands::runs::run_curves,
            commands::runs::compare_runs,
            commands::runs::export_run_csv,
            commands::runs::export_runs_table,
            commands::runs::import_run_bundle,
            commands::runs::delete_runs,
            commands::charts::save_chart,
            commands::charts::plot_runs,
            commands::charts::parallel_runs,
            commands::runs::export_checkpoint,
            commands::runs::evaluate_checkpoint,
            commands::runs::predict_input,
            commands::runs::paired_scores,
            commands::runs::prediction_rows,
            commands::notes::rename_run,
            commands::notes::tag_run,
            commands::notes::untag_run,
            commands::notes::add_run_note,
            commands::launch::subscribe_events,
            commands::launch::launch_run,
            commands::launch::launch_finetune,
            commands::launch::save_mixture_spec,
            commands::launch::cancel_run,
            commands::launch::resume_run,
            commands::launch::quit_app,
            commands::experiments::list_experiments,
            commands::experiments::report_chart,
            commands::experiments::build_report,
            commands::experiments::compare_experiments,
            commands::experiments::score_prefinetuned,
            commands::experiments::run_experiment,
            commands::experiments::run_demo_experiment,
            commands::experiments::cancel_experiment,
            commands::experiments::resume_experiment,
            commands::experiments::delete_experiment,
            commands::experiments::check_experiment,
            commands::experiments::save_experiment,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(error) = result {
        eprintln!("muppet-studio: the window system failed: {error}");
        std::process::exit(1);
    }
}
