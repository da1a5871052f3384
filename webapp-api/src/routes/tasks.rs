//! `/api/v1/tasks`: the game's tasks and checking them.

use crate::error::ApiError;
use crate::extract::Player;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use game::{TaskCheck, TaskView};

/// `GET /api/v1/tasks`: every task with whether the player has been paid for it.
pub async fn list(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<Vec<TaskView>>, ApiError> {
    Ok(Json(state.game.tasks(player.id).await?))
}

/// `POST /api/v1/tasks/{id}/check`: `{"done", "reward", "balance"}`, paying a task done.
pub async fn check(
    State(state): State<AppState>,
    player: Player,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<TaskCheck>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::NotFound)?;
    let members = state.chat_members.as_deref();
    Ok(Json(state.game.check_task(player.id, &id, members).await?))
}
