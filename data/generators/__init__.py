"""One module per sample data set; each has `make(out_dir: Path) -> list[Path]`."""
