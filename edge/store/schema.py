"""The trial store's schema: tables, units, migrations, statuses.

Schema (version 2, ``PRAGMA user_version``; ``PRAGMA application_id`` = 0x47414954, "GAIT").
Times are unix seconds (UTC) as float; ``side`` is ``'L'`` or ``'R'``; rows of one trial
are deleted with it (``ON DELETE CASCADE``).

===============  ==============================================================================
table            columns
===============  ==============================================================================
``trials``       ``id`` INTEGER PK; ``subject``, ``shoe``, ``shoe_model``, ``shoe_size``,
                 ``condition``, ``surface``, ``operator``, ``notes``, ``model_name``,
                 ``model_sha256`` TEXT (:class:`TrialInfo`); ``gaitedge_version`` TEXT;
                 ``start_unix_s``, ``end_unix_s`` (NULL while recording), ``last_write_unix_s``
                 (time of the last data commit) REAL; ``status`` TEXT (:data:`STATUSES`);
                 ``writer_host``, ``writer_boot_id`` TEXT, ``writer_pid``, ``writer_start_ticks``
                 INTEGER (who writes it; see "Interrupted trials")
``devices``      ``trial_id``, ``side`` (PK together); ``device_id`` (integer or text, as given);
                 ``firmware`` TEXT; ``sample_rate_hz`` REAL; ``channels``, ``units`` TEXT (JSON
                 lists, e.g. ``["acc_x", …]`` and ``["m/s^2", …]``); ``transport`` TEXT (URL);
                 ``added_unix_s`` REAL. Adding a side again (a restarted device) replaces it.
``samples``      one row per sample, in arrival order (rowid): ``trial_id``, ``side``;
                 ``counter`` INTEGER (the decoder's unwrapped sample counter);
                 ``t_host`` REAL [unix s]; ``t_device_us`` INTEGER [µs, device clock];
                 ``acc_x_mps2``, ``acc_y_mps2``, ``acc_z_mps2`` REAL [m/s², gravity included],
                 ``gyr_x_radps``, ``gyr_y_radps``, ``gyr_z_radps`` REAL [rad/s], insole frame;
                 ``pressure_kpa`` BLOB: the sample's p cells as little-endian float32 [kPa],
                 NaN = no valid reading, ``x''`` for p = 0, NULL for "no pressure given"
``outputs``      ``trial_id``, ``idx`` (PK together); ``name`` TEXT: the model's output names
``predictions``  one row per sample and output: ``trial_id``, ``side``, ``counter`` INTEGER,
                 ``output`` INTEGER (``outputs.idx``), ``value`` REAL (as the loop stored it)
``events``       ``id`` PK; ``trial_id``, ``side``, ``kind`` TEXT (``"HS"``, ``"TO"``);
                 ``counter_at`` REAL [samples, may lie between samples]; ``counter_reported``
                 INTEGER; ``t_host`` REAL [unix s, when it was reported]
``gaps``         ``id`` PK; ``trial_id``, ``side``, ``first_counter`` INTEGER (first lost),
                 ``n_lost`` INTEGER [samples], ``reason`` TEXT, ``t_host`` REAL [unix s, when
                 it was appended]
``errors``       ``id`` PK; ``trial_id``, ``side`` (NULL: not one shoe's), ``message`` TEXT,
                 ``t_host`` REAL [unix s, when it was appended]
``strides``      one row per stride (:mod:`edge.strides`, every definition there): ``trial_id``,
                 ``side``; ``counter_start``, ``counter_end`` INTEGER (the stride's first and
                 last sample, both at rest); ``t_start_s``, ``t_end_s`` REAL [unix s];
                 ``source`` TEXT: ``'live'`` (forward filter, while recording) or
                 ``'offline'`` (smoothed, after the trial or on replay); each of
                 :data:`STRIDE_FLOAT_COLUMNS` REAL, named with its unit, NULL where
                 undefined; ``strike_class`` TEXT; ``steady``, ``turn``, ``short``,
                 ``bout_edge`` INTEGER 0/1 (the steady-walking rules)
``stride_passes`` one row per trial whose strides were computed: ``trial_id`` PK; ``source``
                 TEXT (as above); ``dropped`` TEXT (JSON: reason → strides left out);
                 ``geometry`` TEXT (JSON: the heel and toe offsets used [m]);
                 ``computed_unix_s`` REAL
===============  ==============================================================================

Migrations: version 1 → 2 adds ``strides`` and ``stride_passes`` (a store of version 1
opens and is upgraded in place, its trials without strides until ``gaitedge replay``).

Indices: ``(trial_id, side, counter)`` on samples and predictions, ``(trial_id, side)`` on
events, gaps and errors, ``status`` on trials. Example, stance of the left shoe::

    SELECT p.counter, p.value FROM predictions p JOIN outputs o
        ON o.trial_id = p.trial_id AND o.idx = p.output
    WHERE p.trial_id = 3 AND p.side = 'L' AND o.name = 'stance' ORDER BY p.rowid;
"""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args

__all__ = [
    "APPLICATION_ID",
    "IMU_COLUMNS",
    "INFO_FIELDS",
    "INSERT_STRIDE",
    "MIGRATIONS",
    "OPERATOR_FIELDS",
    "SCHEMA_VERSION",
    "STATUSES",
    "STRIDE_COLUMNS",
    "STRIDE_FLOAT_COLUMNS",
    "Side",
    "TrialInfo",
    "TrialStatus",
]

#: Trial statuses. ``recording`` until :meth:`TrialStore.finish_trial`; ``interrupted`` is
#: set on reopen when the writer died; ``disk_full`` and ``error`` by the writer.
TrialStatus = Literal["recording", "complete", "stopped", "interrupted", "disk_full", "error"]
STATUSES: tuple[TrialStatus, ...] = get_args(TrialStatus)
#: A shoe: "L" or "R" (checked where data is appended).
Side = str

#: ``PRAGMA application_id`` of a gaitedge trial store ("GAIT").
APPLICATION_ID = 0x47414954

IMU_COLUMNS = (
    "acc_x_mps2",
    "acc_y_mps2",
    "acc_z_mps2",
    "gyr_x_radps",
    "gyr_y_radps",
    "gyr_z_radps",
)
_STATUS_SQL = ", ".join(f"'{s}'" for s in STATUSES)
#: The :class:`TrialInfo` fields an operator types (the rest name the model that ran).
OPERATOR_FIELDS: tuple[str, ...] = (
    "subject", "shoe", "shoe_model", "shoe_size", "condition", "surface", "operator", "notes",
)  # fmt: skip
INFO_FIELDS = (*OPERATOR_FIELDS, "model_name", "model_sha256")

#: The float columns of ``strides`` as migration 2 made them (edge.strides' parameters;
#: tests/edge/store checks the two agree). A new parameter is a new migration.
STRIDE_FLOAT_COLUMNS = (
    "stride_time_s", "stance_time_s", "swing_time_s", "stance_pct", "swing_pct",
    "cadence_spm", "step_time_s", "double_support_time_s", "double_support_pct",
    "stride_length_m", "gait_speed_mps", "strike_angle_deg", "toe_off_angle_deg",
    "max_heel_clearance_m", "max_toe_clearance_m", "min_toe_clearance_m",
    "lateral_excursion_m", "turning_angle_deg", "roll_range_deg", "peak_roll_velocity_dps",
    "impact_peak_acc_mps2", "impact_loading_rate_mps3", "peak_pressure_kpa",
    "stance_impulse_kpa_s",
)  # fmt: skip
#: Every column of a ``strides`` row after ``trial_id``, in table order.
STRIDE_COLUMNS = (
    "side", "counter_start", "counter_end", "t_start_s", "t_end_s", "source",
    *STRIDE_FLOAT_COLUMNS, "strike_class", "steady", "turn", "short", "bout_edge",
)  # fmt: skip

# Migrations: MIGRATIONS[i] takes a store from schema version i to i + 1, in one
# transaction. Version 1 is the first schema. Append, never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"PRAGMA application_id = {APPLICATION_ID}",
        f"""CREATE TABLE trials (
            id INTEGER PRIMARY KEY,
            {", ".join(f"{f} TEXT NOT NULL DEFAULT ''" for f in INFO_FIELDS)},
            gaitedge_version TEXT NOT NULL DEFAULT '',
            start_unix_s REAL NOT NULL,
            end_unix_s REAL,
            last_write_unix_s REAL,
            status TEXT NOT NULL CHECK (status IN ({_STATUS_SQL})),
            writer_host TEXT NOT NULL DEFAULT '',
            writer_boot_id TEXT NOT NULL DEFAULT '',
            writer_pid INTEGER,
            writer_start_ticks INTEGER)""",
        "CREATE INDEX trials_status ON trials(status)",
        """CREATE TABLE devices (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL CHECK (side IN ('L', 'R')),
            device_id NOT NULL,
            firmware TEXT NOT NULL,
            sample_rate_hz REAL NOT NULL,
            channels TEXT NOT NULL,
            units TEXT NOT NULL,
            transport TEXT NOT NULL,
            added_unix_s REAL NOT NULL,
            PRIMARY KEY (trial_id, side))""",
        f"""CREATE TABLE samples (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            counter INTEGER NOT NULL,
            t_host REAL NOT NULL,
            t_device_us INTEGER NOT NULL,
            {", ".join(f"{c} REAL NOT NULL" for c in IMU_COLUMNS)},
            pressure_kpa BLOB)""",
        "CREATE INDEX samples_trial_side ON samples(trial_id, side, counter)",
        """CREATE TABLE outputs (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (trial_id, idx))""",
        """CREATE TABLE predictions (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            counter INTEGER NOT NULL,
            output INTEGER NOT NULL,
            value REAL NOT NULL)""",
        "CREATE INDEX predictions_trial_side ON predictions(trial_id, side, counter)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            kind TEXT NOT NULL,
            counter_at REAL NOT NULL,
            counter_reported INTEGER NOT NULL,
            t_host REAL NOT NULL)""",
        "CREATE INDEX events_trial_side ON events(trial_id, side)",
        """CREATE TABLE gaps (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            first_counter INTEGER NOT NULL,
            n_lost INTEGER NOT NULL,
            reason TEXT NOT NULL,
            t_host REAL NOT NULL)""",
        "CREATE INDEX gaps_trial_side ON gaps(trial_id, side)",
        """CREATE TABLE errors (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT,
            message TEXT NOT NULL,
            t_host REAL NOT NULL)""",
        "CREATE INDEX errors_trial_side ON errors(trial_id, side)",
    ),
    (
        f"""CREATE TABLE strides (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL CHECK (side IN ('L', 'R')),
            counter_start INTEGER NOT NULL,
            counter_end INTEGER NOT NULL,
            t_start_s REAL NOT NULL,
            t_end_s REAL NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('live', 'offline')),
            {", ".join(f"{c} REAL" for c in STRIDE_FLOAT_COLUMNS)},
            strike_class TEXT NOT NULL DEFAULT '',
            steady INTEGER NOT NULL,
            turn INTEGER NOT NULL,
            short INTEGER NOT NULL,
            bout_edge INTEGER NOT NULL)""",
        "CREATE INDEX strides_trial_side ON strides(trial_id, side, counter_start)",
        """CREATE TABLE stride_passes (
            trial_id INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
            source TEXT NOT NULL CHECK (source IN ('live', 'offline')),
            dropped TEXT NOT NULL,
            geometry TEXT NOT NULL,
            computed_unix_s REAL NOT NULL)""",
    ),
)

#: Schema version this gaitedge writes (and the newest it reads).
SCHEMA_VERSION = len(MIGRATIONS)

BUSY_TIMEOUT_S = 5.0
INSERT_SAMPLES = (
    "INSERT INTO samples (trial_id, side, counter, t_host, t_device_us, "
    f"{', '.join(IMU_COLUMNS)}, pressure_kpa) VALUES ({', '.join('?' * 12)})"
)
INSERT_PREDICTIONS = (
    "INSERT INTO predictions (trial_id, side, counter, output, value) VALUES (?, ?, ?, ?, ?)"
)
INSERT_EVENT = (
    "INSERT INTO events (trial_id, side, kind, counter_at, counter_reported, t_host) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_GAP = (
    "INSERT INTO gaps (trial_id, side, first_counter, n_lost, reason, t_host) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_ERROR = "INSERT INTO errors (trial_id, side, message, t_host) VALUES (?, ?, ?, ?)"
UPSERT_DEVICE = (
    "INSERT OR REPLACE INTO devices (trial_id, side, device_id, firmware, sample_rate_hz, "
    "channels, units, transport, added_unix_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_OUTPUT = "INSERT OR REPLACE INTO outputs (trial_id, idx, name) VALUES (?, ?, ?)"
INSERT_STRIDE = (
    f"INSERT INTO strides (trial_id, {', '.join(STRIDE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(STRIDE_COLUMNS) + 1))})"
)
UPSERT_STRIDE_PASS = (
    "INSERT OR REPLACE INTO stride_passes (trial_id, source, dropped, geometry, "
    "computed_unix_s) VALUES (?, ?, ?, ?, ?)"
)


@dataclasses.dataclass(frozen=True, slots=True)
class TrialInfo:
    """What the operator enters for a trial; every field is optional free text.

    Attributes
    ----------
    subject : str
        Subject code (pseudonymous, e.g. ``"P03"``; never a name).
    shoe, shoe_model, shoe_size : str
        The shoe under test: its id (e.g. a prototype label), model, size (as marked).
    condition, surface : str
        Test condition (e.g. ``"walk-preferred"``) and surface (``"treadmill"``, ``"grass"``).
    operator, notes : str
        Who ran the trial; anything else.
    model_name, model_sha256 : str
        The gait model that ran (directory name and the SHA-256 of its weights file).
    """

    subject: str = ""
    shoe: str = ""
    shoe_model: str = ""
    shoe_size: str = ""
    condition: str = ""
    surface: str = ""
    operator: str = ""
    notes: str = ""
    model_name: str = ""
    model_sha256: str = ""
