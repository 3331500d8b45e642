"""Drive a real LibreOffice over UNO: open a workbook, type cells as a clerk would, save as several formats.

Run with the interpreter that has the UNO bridge (Debian's /usr/bin/python3):
    /usr/bin/python3 tests/lo_fill.py job.json
job.json: {"input": path, "cells": [[sheet, "B7", value], ...], "formulas": [[sheet, "C9", "=SUM(A1:A3)"], ...],
           "keyboard": [[sheet, "F13", "≥266米"], ...] with "report": path (typed as at the keyboard; validity),
           "outputs": {"xlsx": path, ...},
           "insert_rows": [[sheet, 0-based row, count], ...], "delete_rows": [[sheet, row, count], ...],
           "insert_rows_protected": [[sheet, row, count], ...] (without unprotecting: refused unless allowed)}
A number is entered as a number, anything else as text; values set over UNO bypass
sheet protection, as a clerk who unprotected the sheet would.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue

FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "xls": "MS Excel 97", "ods": "calc8", "pdf": "calc_pdf_Export"}


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keyboard(ctx, doc, sheets, entries):
    """Type each [sheet, address, text] as a clerk does (Calc's EnterString: a number typed into a Text cell
    stays text, 25% typed into a General cell becomes 0.25) and ask Calc's own validation whether the cell now
    holds a valid entry (Detective → Mark invalid data). The text stays in the cell."""
    controller = doc.getCurrentController()
    frame = controller.getFrame()
    dispatcher = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
    out = []
    for sheet_name, address, text in entries:
        sheet = sheets.getByName(sheet_name)
        sheet.unprotect("")   # the detective works on unprotected sheets only; validation is unchanged
        cell = sheet.getCellRangeByName(address)
        controller.setActiveSheet(sheet)
        controller.select(cell)
        dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", text),))
        invalid = sheet.showInvalid()
        sheet.clearArrows()
        out.append({"sheet": sheet_name, "cell": address, "typed": text, "invalid": bool(invalid),
                    "stored": "text" if cell.getType().value == "TEXT" else "number",
                    "string": cell.getString(), "value": cell.getValue()})
    return out


def main(job_path):
    job = json.load(open(job_path, encoding="utf-8"))
    port = free_port()
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    proc = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
         f"-env:UserInstallation=file://{profile}",
         f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("LibreOffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        # LibreOffice started without a UTF-8 locale cannot open non-ASCII paths: work on ASCII copies
        work = tempfile.mkdtemp(prefix="lo-work-")
        local_input = os.path.join(work, "input" + os.path.splitext(job["input"])[1])
        shutil.copyfile(job["input"], local_input)
        url = uno.systemPathToFileUrl(local_input)
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        sheets = doc.getSheets()
        for sheet, index, count in job.get("insert_rows", []):   # a clerk who unprotected the sheet
            sheets.getByName(sheet).unprotect("")
            sheets.getByName(sheet).getRows().insertByIndex(index, count)
        for sheet, index, count in job.get("insert_rows_protected", []):   # as the clerk can, the sheet protected
            sheets.getByName(sheet).getRows().insertByIndex(index, count)
        for sheet, index, count in job.get("delete_rows", []):
            sheets.getByName(sheet).unprotect("")
            sheets.getByName(sheet).getRows().removeByIndex(index, count)
        for sheet, address, value in job.get("cells", []):
            cell = sheets.getByName(sheet).getCellRangeByName(address)
            if isinstance(value, (int, float)):
                cell.setValue(value)
            else:
                cell.setString(value)
        for sheet, address, text in job.get("typed", []):         # as typed at the keyboard: "25%" → 0.25
            sheets.getByName(sheet).getCellRangeByName(address).setFormula(text)
        if job.get("keyboard"):   # typed at the keyboard, through the application's own input handling
            typed = keyboard(ctx, doc, sheets, job["keyboard"])
            with open(job["report"], "w", encoding="utf-8") as f:
                json.dump(typed, f, ensure_ascii=False)
        for sheet, address, formula in job.get("formulas", []):   # a clerk typing "=…" into a cell
            sheets.getByName(sheet).unprotect("")
            sheets.getByName(sheet).getCellRangeByName(address).setFormula(formula)
        for sheet, address, text in job.get("notes", []):        # a clerk's note on a cell
            sheets.getByName(sheet).unprotect("")
            cell = sheets.getByName(sheet).getCellRangeByName(address)
            sheets.getByName(sheet).getAnnotations().insertNew(cell.getCellAddress(), text)
        for sheet, index in job.get("hide_rows", []):
            sheets.getByName(sheet).unprotect("")
            sheets.getByName(sheet).getRows().getByIndex(index).IsVisible = False
        for sheet, address, value in job.get("values_over_formulas", []):   # a typed number over a formula
            sheets.getByName(sheet).unprotect("")
            sheets.getByName(sheet).getCellRangeByName(address).setValue(value)
        if job.get("recalculate"):
            doc.calculateAll()
        for fmt, path in job["outputs"].items():
            local = os.path.join(work, "output." + fmt)
            doc.storeToURL(uno.systemPathToFileUrl(local), (prop("FilterName", FILTERS[fmt]),))
            shutil.move(local, path)
        try:
            doc.close(True)
        except Exception:   # Calc sometimes goes away while closing after the detective: the outputs are stored
            pass
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main(sys.argv[1])
