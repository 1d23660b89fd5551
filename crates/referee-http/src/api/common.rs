//! Helpers every resource module uses: paging a store query and checking write access.

use referee_store::{AnyConnection, Page, PageRequest, StoreResult};

use crate::error::{ApiError, ApiResult};
use crate::extract::{PageSpec, invalid_page};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;

/// Runs a paged store query and builds the list response with its headers.
///
/// `page=last` runs the query once to learn the total. A page past the end is a 404 with
/// "Not found.", except page 1, which is always an empty list. A HEAD request runs the query
/// once with a page size of 0 (see [`count_page`]), so the store reads no rows of the page.
pub async fn list_page<T, F>(
    state: &AppState,
    spec: PageSpec,
    url: RequestUrl,
    query: F,
) -> ApiResult<ListResponse<T>>
where
    T: Send + 'static,
    F: Fn(&mut AnyConnection, PageRequest) -> StoreResult<Page<T>> + Send + 'static,
{
    if url.head {
        return count_page(state, spec, url, move |connection| {
            let empty = PageRequest {
                page: 1,
                page_size: 0,
            };
            Ok(query(connection, empty)?.total)
        })
        .await;
    }

    let (page, result) = state
        .run(move |connection| {
            let request = match spec {
                PageSpec::Number(request) => request,
                PageSpec::Last { page_size } => {
                    let probe = query(connection, PageRequest { page: 1, page_size })?;
                    let last = ((probe.total + page_size - 1) / page_size).max(1);
                    if last == 1 {
                        return Ok((PageRequest { page: 1, page_size }, probe));
                    }
                    PageRequest {
                        page: last,
                        page_size,
                    }
                }
            };
            let result = query(connection, request)?;
            Ok((request, result))
        })
        .await?;

    if page.page > 1 && result.rows.is_empty() {
        let last_page = ((result.total + page.page_size - 1) / page.page_size).max(1);
        return Err(invalid_page(page.page, last_page));
    }
    Ok(ListResponse {
        rows: result.rows,
        total: result.total,
        page: page.page,
        page_size: page.page_size,
        url,
    })
}

/// Runs a store count and builds the reply of a HEAD request on a list: the status and
/// headers that the GET request with the same query would return, without rows.
///
/// A page past the end is the same 404 as for GET, decided from the count.
pub async fn count_page<T, F>(
    state: &AppState,
    spec: PageSpec,
    url: RequestUrl,
    count: F,
) -> ApiResult<ListResponse<T>>
where
    F: FnOnce(&mut AnyConnection) -> StoreResult<i64> + Send + 'static,
{
    let total = state.run(count).await?;
    let page_size = spec.page_size();
    let last_page = ((total + page_size - 1) / page_size).max(1);
    let page = match spec {
        PageSpec::Number(request) => request.page,
        PageSpec::Last { .. } => last_page,
    };
    if page > last_page {
        return Err(invalid_page(page, last_page));
    }
    Ok(ListResponse {
        rows: Vec::new(),
        total,
        page,
        page_size,
        url,
    })
}

/// Turns accumulated field errors into a 400 before any database work.
pub fn check(errors: referee_domain::FieldErrors) -> ApiResult<()> {
    errors.into_result().map_err(ApiError::from)
}
