"""Pure core: values in, values out. No I/O, no clocks, no threads."""
