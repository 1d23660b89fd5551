//! Absolute hyperlinks and the `Link` / `X-Result-Count` headers of list responses.

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Empty};
use serde::Serialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The scheme and authority that links in a response start with, plus the request's path and
/// query for pagination links.
#[derive(Debug, Clone)]
pub struct RequestUrl {
    /// `scheme://host[:port]`, without a trailing slash.
    pub origin: String,
    pub path: String,
    /// Query pairs in request order, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Whether the request is a HEAD request, whose list reply carries the headers of the GET
    /// reply and no rows.
    pub head: bool,
}

impl RequestUrl {
    /// Absolute URL of a resource: `{origin}/api/{collection}/{hex uuid}/`.
    pub fn resource(&self, collection: &str, uuid: Uuid) -> String {
        format!("{}/api/{}/{}/", self.origin, collection, uuid.simple())
    }

    /// Absolute URL of `path` (which starts with `/`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.origin, path)
    }

    /// The request URL with `page` set to `page`, or removed when `page` is `None`; other
    /// parameters are kept, sorted by key and percent-encoded.
    pub fn with_page(&self, page: Option<i64>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(key, _)| key != "page")
            .cloned()
            .collect();
        if let Some(page) = page {
            pairs.push(("page".to_owned(), page.to_string()));
        }
        pairs.sort_by(|left, right| left.0.cmp(&right.0));

        let mut url = format!("{}{}", self.origin, self.path);
        if !pairs.is_empty() {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            url.push('?');
            url.push_str(&query);
        }
        url
    }
}

fn origin_from_headers(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && !value.contains(['/', ' ', '"', '<', '>']))
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .filter(|value| *value == "https" || *value == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

impl FromRequestParts<AppState> for RequestUrl {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let origin = match &state.settings().public_url {
            Some(public) => public.trim_end_matches('/').to_owned(),
            None => origin_from_headers(&parts.headers),
        };
        let query = parts
            .uri
            .query()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            origin,
            path: parts.uri.path().to_owned(),
            query,
            head: parts.method == Method::HEAD,
        })
    }
}

/// A page of a list with its headers: a bare JSON array, `X-Result-Count` and `Link`.
pub struct ListResponse<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub url: RequestUrl,
}

impl<T> ListResponse<T> {
    /// Converts every row, keeping the paging information.
    pub fn map<U>(self, mut convert: impl FnMut(T, &RequestUrl) -> U) -> ListResponse<U> {
        let rows = self
            .rows
            .into_iter()
            .map(|row| convert(row, &self.url))
            .collect();
        ListResponse {
            rows,
            total: self.total,
            page: self.page,
            page_size: self.page_size,
            url: self.url,
        }
    }

    fn link_header(&self) -> String {
        let last_page = ((self.total + self.page_size - 1) / self.page_size).max(1);
        let page_link = |page: i64| {
            if page <= 1 {
                self.url.with_page(None)
            } else {
                self.url.with_page(Some(page))
            }
        };

        let mut links = vec![format!("<{}>; rel=\"first\"", self.url.with_page(None))];
        if self.page > 1 {
            links.push(format!("<{}>; rel=\"prev\"", page_link(self.page - 1)));
        }
        if self.page < last_page {
            links.push(format!("<{}>; rel=\"next\"", page_link(self.page + 1)));
        }
        links.push(format!("<{}>; rel=\"last\"", page_link(last_page)));
        links.join(", ")
    }
}

impl<T: Serialize> IntoResponse for ListResponse<T> {
    fn into_response(self) -> Response {
        let link = self.link_header();
        let mut response = if self.url.head {
            head_response()
        } else {
            (StatusCode::OK, axum::Json(&self.rows)).into_response()
        };
        let headers = response.headers_mut();
        headers.insert("x-result-count", HeaderValue::from(self.total));
        if let Ok(value) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, value);
        }
        response
    }
}

/// Builds the reply to a HEAD request on a list without its count and link headers. The
/// reply has status 200, the JSON content type and no body.
///
/// It sends no `Content-Length`, because HTTP allows a HEAD reply to send one only with the
/// length of the GET reply, which is not known without loading the page. axum sets
/// `Content-Length` from a body's exact size, and `map_frame` hides the exact size of the
/// empty body.
fn head_response() -> Response {
    let body = Empty::<Bytes>::new().map_frame(|frame| frame);
    let mut response = Response::new(Body::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A bare JSON array that is not paginated but still reports its length in `X-Result-Count`.
pub struct ArrayResponse<T>(pub Vec<T>);

impl<T: Serialize> IntoResponse for ArrayResponse<T> {
    fn into_response(self) -> Response {
        let count = self.0.len() as i64;
        let mut response = (StatusCode::OK, axum::Json(&self.0)).into_response();
        response
            .headers_mut()
            .insert("x-result-count", HeaderValue::from(count));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(query: &[(&str, &str)]) -> RequestUrl {
        RequestUrl {
            origin: "http://h".into(),
            path: "/api/customers/".into(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            head: false,
        }
    }

    #[test]
    fn link_header_sorts_keys_and_drops_page_one() {
        let response = ListResponse::<()> {
            rows: vec![],
            total: 25,
            page: 2,
            page_size: 10,
            url: url(&[("page", "2"), ("o", "-name,created"), ("a", "1")]),
        };
        assert_eq!(
            response.link_header(),
            "<http://h/api/customers/?a=1&o=-name%2Ccreated>; rel=\"first\", \
             <http://h/api/customers/?a=1&o=-name%2Ccreated>; rel=\"prev\", \
             <http://h/api/customers/?a=1&o=-name%2Ccreated&page=3>; rel=\"next\", \
             <http://h/api/customers/?a=1&o=-name%2Ccreated&page=3>; rel=\"last\""
        );
    }

    #[test]
    fn single_page_has_first_and_last_only() {
        let response = ListResponse::<()> {
            rows: vec![],
            total: 0,
            page: 1,
            page_size: 10,
            url: url(&[]),
        };
        assert_eq!(
            response.link_header(),
            "<http://h/api/customers/>; rel=\"first\", <http://h/api/customers/>; rel=\"last\""
        );
    }
}
