"""``xuncha demo``: an offline patrol against a simulated platform."""
