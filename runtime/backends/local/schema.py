"""Tables of the embedded backend. Times are epoch seconds (REAL)."""

from __future__ import annotations

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS swf_domains (
        name TEXT PRIMARY KEY,
        description TEXT,
        retention TEXT NOT NULL,
        status TEXT NOT NULL,
        created REAL NOT NULL
    )""",
    # kind is 'workflow' or 'activity'; config is the describe_*_type
    # "configuration" dict as JSON.
    """CREATE TABLE IF NOT EXISTS swf_types (
        kind TEXT NOT NULL,
        domain TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        status TEXT NOT NULL,
        description TEXT,
        created REAL NOT NULL,
        deprecated REAL,
        config TEXT NOT NULL,
        PRIMARY KEY (kind, domain, name, version)
    )""",
    # config is the executionConfiguration dict as JSON; deadline is the
    # execution start-to-close deadline.
    """CREATE TABLE IF NOT EXISTS swf_executions (
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL UNIQUE,
        type_name TEXT NOT NULL,
        type_version TEXT NOT NULL,
        status TEXT NOT NULL,
        close_status TEXT,
        started REAL NOT NULL,
        closed REAL,
        config TEXT NOT NULL,
        tags TEXT NOT NULL,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        latest_context TEXT,
        latest_activity REAL,
        next_event_id INTEGER NOT NULL DEFAULT 1,
        decision_pending INTEGER NOT NULL DEFAULT 0,
        prev_started INTEGER NOT NULL DEFAULT 0,
        deadline REAL
    )""",
    # The database, not the code, guarantees one open run per workflowId.
    """CREATE UNIQUE INDEX IF NOT EXISTS swf_one_open_run
        ON swf_executions (domain, workflow_id) WHERE status = 'OPEN'""",
    """CREATE INDEX IF NOT EXISTS swf_execution_deadline
        ON swf_executions (deadline) WHERE status = 'OPEN'""",
    # The retention sweep looks for the oldest closed runs of each domain.
    """CREATE INDEX IF NOT EXISTS swf_execution_closed
        ON swf_executions (domain, closed) WHERE status = 'CLOSED'""",
    """CREATE TABLE IF NOT EXISTS swf_events (
        execution INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        ts REAL NOT NULL,
        attrs TEXT NOT NULL,
        PRIMARY KEY (execution, event_id)
    ) WITHOUT ROWID""",
    # At most one decision task (scheduled or started) per execution: the
    # primary key is the execution.
    """CREATE TABLE IF NOT EXISTS swf_decision_tasks (
        execution INTEGER PRIMARY KEY,
        domain TEXT NOT NULL,
        task_list TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        scheduled_event_id INTEGER NOT NULL,
        started_event_id INTEGER NOT NULL DEFAULT 0,
        token TEXT UNIQUE,
        scheduled REAL NOT NULL,
        deadline REAL
    )""",
    """CREATE INDEX IF NOT EXISTS swf_decision_queue
        ON swf_decision_tasks (domain, task_list, state, priority, scheduled)""",
    """CREATE INDEX IF NOT EXISTS swf_decision_deadline
        ON swf_decision_tasks (deadline)""",
    # Timeouts are whole seconds, NULL for "NONE"; deadline is the earliest of
    # the timeouts that apply in the current state, deadline_type its kind.
    """CREATE TABLE IF NOT EXISTS swf_activity_tasks (
        id INTEGER PRIMARY KEY,
        execution INTEGER NOT NULL,
        domain TEXT NOT NULL,
        task_list TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        activity_id TEXT NOT NULL,
        type_name TEXT NOT NULL,
        type_version TEXT NOT NULL,
        input TEXT,
        state TEXT NOT NULL,
        scheduled_event_id INTEGER NOT NULL,
        started_event_id INTEGER NOT NULL DEFAULT 0,
        token TEXT UNIQUE,
        scheduled REAL NOT NULL,
        started REAL,
        heartbeat REAL,
        details TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        cancel_event_id INTEGER,
        schedule_to_start INTEGER,
        schedule_to_close INTEGER,
        start_to_close INTEGER,
        heartbeat_timeout INTEGER,
        deadline REAL,
        deadline_type TEXT,
        UNIQUE (execution, activity_id)
    )""",
    """CREATE INDEX IF NOT EXISTS swf_activity_queue
        ON swf_activity_tasks (domain, task_list, state, priority, scheduled)""",
    """CREATE INDEX IF NOT EXISTS swf_activity_deadline
        ON swf_activity_tasks (deadline)""",
    """CREATE TABLE IF NOT EXISTS swf_timers (
        execution INTEGER NOT NULL,
        timer_id TEXT NOT NULL,
        started_event_id INTEGER NOT NULL,
        fire_at REAL NOT NULL,
        PRIMARY KEY (execution, timer_id)
    )""",
    """CREATE INDEX IF NOT EXISTS swf_timer_due ON swf_timers (fire_at)""",
    # attrs are the queue's settable attributes as JSON, all values strings.
    """CREATE TABLE IF NOT EXISTS sqs_queues (
        name TEXT PRIMARY KEY,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        attrs TEXT NOT NULL,
        tags TEXT NOT NULL
    )""",
    # receipt is the handle of the latest receive; visible_at is when the
    # message may be received (again).
    """CREATE TABLE IF NOT EXISTS sqs_messages (
        id INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        md5 TEXT NOT NULL,
        msg_attrs TEXT,
        md5_attrs TEXT,
        sent REAL NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        first_receive REAL,
        receipt TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS sqs_visible
        ON sqs_messages (queue, visible_at, id)""",
)
