"""``gaitedge listen`` and ``gaitedge scan``: links and devices, without the model."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from edge.cli._common import stop_on_signals
from firmware_bridge import DeviceInfo, SampleBlock, Status, StreamDecoder, spec
from firmware_bridge.transports import Transport, TransportEvent, open_transport


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``listen``, ``scan``."""
    p_listen = sub.add_parser(
        "listen",
        help="decode one or more transports live and print packet stats",
        description="Open each URL (serial://, ble://, replay://), decode, and print a stats "
        "line per device every second and a summary at the end (Ctrl-C to stop).",
    )
    p_listen.add_argument(
        "urls",
        nargs="+",
        metavar="URL",
        help="serial:///dev/ttyACM0, serial://usb:VID:PID, ble://ADDRESS, replay://FILE",
    )
    p_listen.add_argument(
        "--capture",
        type=Path,
        metavar="FILE",
        help="also write the raw bytes to FILE (one URL) or FILE.N.gecap (several)",
    )
    p_listen.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p_listen.set_defaults(func=listen)

    p_scan = sub.add_parser(
        "scan",
        help="list serial ports and BLE devices that look like insoles, with their URLs",
        description="USB serial ports (with their stable /dev/serial/by-id links) and BLE "
        "devices advertising the gaitedge name prefix or service. --probe opens each serial "
        "port for a moment and asks what answers (the DEVICE_INFO packet: side, rate, id).",
    )
    p_scan.add_argument("--ble-seconds", type=float, default=5.0,
                      help="how long to listen for BLE insoles (0: skip BLE)")  # fmt: skip
    p_scan.add_argument("--probe", type=float, metavar="S", default=0.0,
                      help="open each serial port for up to S s and identify it")  # fmt: skip
    p_scan.add_argument("--port", action="append", default=[], metavar="PATH",
                      help="also probe this port (e.g. a pty); repeatable")  # fmt: skip
    p_scan.set_defaults(func=scan)


class Listener:
    """Decode one transport: feed every chunk to a StreamDecoder and keep what a
    summary needs: the link's stats without the model (``gaitedge run`` is the whole
    loop)."""

    def __init__(self, url: str, capture: Path | None = None) -> None:
        self.url = url
        self.decoder = StreamDecoder()
        self.events: list[TransportEvent] = []
        transport: Transport = open_transport(url, on_event=self._on_event)
        if capture is not None:
            from firmware_bridge.transports.capture import RecordingTransport

            transport = RecordingTransport(transport, capture)
        self.transport = transport
        self.first_seq: int | None = None
        self.last_seq: int | None = None

    def _on_event(self, event: TransportEvent) -> None:
        self.events.append(event)
        if event.kind in ("disconnected", "reconnected", "gave_up"):
            print(
                f"  [{self.transport.name}] {event.kind}"
                + (f" after {event.gap_s:.1f} s" if event.gap_s else ""),
                flush=True,
            )

    async def run(self) -> None:
        """Read until the transport ends or the task is cancelled."""
        async with self.transport:
            while chunk := await self.transport.read():
                for item in self.decoder.feed(chunk):
                    if isinstance(item, SampleBlock) and len(item):
                        if self.first_seq is None:
                            self.first_seq = int(item.seq[0])
                        self.last_seq = int(item.seq[-1])

    def line(self) -> str:
        s, info = self.decoder.stats, self.decoder.info_
        side = info.side if info else "?"
        expected = s.samples_ok + s.lost_samples + s.out_of_order
        lost_pct = 100.0 * s.lost_samples / expected if expected else 0.0
        battery = self.decoder.status_.battery_pct if self.decoder.status_ else None
        return (
            f"{side} {self.transport.name}: {s.samples_ok} samples, lost {s.lost_samples} "
            f"({lost_pct:.1f} %), bad frames {s.frames_bad}, battery "
            f"{'?' if battery is None else f'{battery} %'}"
        )

    def summary(self) -> str:
        return link_summary(self.decoder, self.events, self.first_seq, self.last_seq)


def link_summary(
    decoder: StreamDecoder,
    events: Sequence[TransportEvent],
    first_seq: int | None,
    last_seq: int | None,
) -> str:
    """What one link delivered: device, samples, gaps, bad frames, outages, battery."""
    s, info, status = decoder.stats, decoder.info_, decoder.status_
    out = []
    if info is not None:
        out.append(_describe(info))
    share = ""
    if first_seq is not None and last_seq is not None:
        sent = last_seq - first_seq + 1  # by the device's own counter
        share = f"  ({100.0 * s.samples_ok / sent:.1f} % of the {sent} sent)"
    out.append(f"  samples delivered  {s.samples_ok}{share}")
    out.append(f"  lost (seq gaps)    {s.lost_samples} in {s.gaps} gaps")
    out.append(f"  duplicates         {s.duplicates}    out of order {s.out_of_order}")
    out.append(
        f"  frames ok / bad    {s.frames_ok} / {s.frames_bad}  "
        f"(crc {s.crc_errors}, cobs {s.cobs_errors}, length {s.length_errors}, "
        f"layout {s.layout_errors}); unsupported {s.unsupported}"
    )
    out.append(f"  bytes in / skipped {s.bytes_in} / {s.bytes_skipped}")
    out.append(f"  device restarts    {s.resets}")
    downs = [e for e in events if e.kind == "reconnected"]
    if downs:
        gaps = ", ".join(f"{e.gap_s:.1f} s" for e in downs)
        out.append(f"  link outages       {len(downs)} ({gaps})")
    if status is not None:
        out.append(f"  battery            {_status_text(status)}")
    return "\n".join(out)


def _describe(info: DeviceInfo) -> str:
    fw = ".".join(map(str, info.firmware))
    return (
        f"{info.side} shoe: id {info.device_id:016x}, {info.model or 'unknown model'} fw {fw}, "
        f"{info.sample_rate_hz:g} Hz, ±{info.accel_range_g:g} g, ±{info.gyro_range_dps:g} °/s, "
        f"{info.n_pressure} pressure cells, protocol {info.protocol[0]}.{info.protocol[1]}"
    )


def _status_text(status: Status) -> str:
    pct = "?" if status.battery_pct is None else f"{status.battery_pct} %"
    mv = "" if status.battery_mv is None else f", {status.battery_mv} mV"
    flags = spec.error_names(status.error_flags)
    return pct + mv + (f", flags {' '.join(flags)}" if flags else "")


async def scan(args: argparse.Namespace) -> int:
    from firmware_bridge.errors import TransportError
    from firmware_bridge.transports import identify
    from firmware_bridge.transports.serial_discovery import list_serial_insoles

    ports = list_serial_insoles()
    paths = [p.by_id or p.path for p in ports] + list(args.port)
    print(f"serial: {len(ports)} USB port(s)" + (f" + {len(args.port)} given" if args.port else ""))
    described = {p.by_id or p.path: p for p in ports}
    for path in paths:
        p = described.get(path)
        what = (f"{p.vid:04x}:{p.pid:04x} {p.description}" if p and p.vid is not None
                else (p.description if p else "given"))  # fmt: skip
        line = f"  serial://{path}  ({what})"
        if args.probe > 0 or path in args.port:
            try:
                info = await identify(f"serial://{path}", args.probe or 2.0)
            except TransportError as e:
                info, line = None, line + f"  cannot open: {e}"
            if info is not None:
                line += "  -> " + _describe(info)
            elif "cannot open" not in line:
                line += "  -> no insole answered"
        print(line)
    if args.ble_seconds > 0:
        from firmware_bridge.transports.ble import scan_insoles

        try:
            found = await scan_insoles(args.ble_seconds)
        except (TransportError, OSError) as e:
            hint = "" if "BlueZ" in str(e) else " (Bluetooth on? BlueZ running? user allowed?)"
            print(f"ble: cannot scan: {e}{hint}")
        else:
            print(f"ble: {len(found)} insole(s) in {args.ble_seconds:g} s")
            for a in found:
                print(f"  ble://{a.address}  {a.name or '?'}  {a.rssi} dBm")
    return 0


async def listen(args: argparse.Namespace) -> int:
    captures: list[Path | None] = [None] * len(args.urls)
    if args.capture is not None:
        captures = (
            [args.capture]
            if len(args.urls) == 1
            else [args.capture.with_suffix(f".{i}.gecap") for i in range(len(args.urls))]
        )
    listeners = [Listener(u, c) for u, c in zip(args.urls, captures, strict=True)]
    stop = stop_on_signals()
    tty = sys.stdout.isatty()
    tasks = [asyncio.create_task(li.run()) for li in listeners]
    started = time.monotonic()
    while not stop.is_set() and not all(t.done() for t in tasks):
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await stop.wait()
        status = " | ".join(li.line() for li in listeners)
        print(("\r" + status[:200]) if tty else status, end="" if tty else "\n", flush=True)
        if args.duration is not None and time.monotonic() - started >= args.duration:
            break
    for t in tasks:
        t.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print()
    for li in listeners:
        print(li.summary())
    errors = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError)
    ]
    for e in errors:
        print(f"gaitedge: error: {e}", file=sys.stderr)
    return 1 if errors else 0
