//! Operations of this resource.
