// The FakeSeam module. Its contents arrive with its issue; see ARCHITECTURE.md for what it owns.
