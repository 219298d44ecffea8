"""Reference apps the atlas is measured against: the floor and the naive baseline."""
