# Built-in policies embedded into the binary (filled in by the policy loader).
