"""HTTP views of the contacts app, one module per area."""
