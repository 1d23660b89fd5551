//! Paging and ordering of list queries.

/// Which rows of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
}

impl PageRequest {
    /// Rows before the page; saturates instead of overflowing for absurd page numbers, which
    /// then simply find no rows.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// A request for every row at once, for internal callers.
    pub fn everything() -> Self {
        Self {
            page: 1,
            page_size: i64::MAX / 2,
        }
    }
}

/// One ordering key: a field of the resource and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey<F> {
    pub field: F,
    pub descending: bool,
}

/// One page of rows with the number of rows over all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn map<U>(self, transform: impl FnMut(T) -> U) -> Page<U> {
        Page {
            rows: self.rows.into_iter().map(transform).collect(),
            total: self.total,
        }
    }
}
