"""Figure-drawing helpers the notebooks call; import the submodules directly."""
