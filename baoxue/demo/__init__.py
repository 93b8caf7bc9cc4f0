"""Demo data for the fictional 示范县, above every app (it reaches into all of them):

- `county.py`: the county, its schools, students, families, terms and accounts (`build_demo`);
- `attendance.py`: about five weeks of roll calls and the 13510 cases they lead to;
- `registry.py`: the 人籍一致 files written under var/demo/;
- `management/commands/demo.py`: the `baoxue demo` command.

No app imports this package; it has no models.
"""
