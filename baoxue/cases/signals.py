"""What the 13510 app announces to the apps above it (it imports none of them).

Each is sent inside the writing transaction, so a receiver's rows (a notification in the outbox)
commit with the event or not at all.

- `tasks_opened(sender, tasks)`: new 13510 steps (联系家长, 家访跟进) were opened: a list of Task.
- `case_suspected(sender, cases)`: cases entered the 疑似辍学 ledger (their `suspected_on` set).
- `dropout_reported(sender, reports)`: dropout reports (to the township, to the bureau) were
  made: a list of Report.
"""

from django.dispatch import Signal

tasks_opened = Signal()
case_suspected = Signal()
dropout_reported = Signal()
