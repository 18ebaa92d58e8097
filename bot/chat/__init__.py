"""The channel-free turn layer: (state, text) in, replies and a new state out; the same for every channel."""
