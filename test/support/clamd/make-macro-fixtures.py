#!/usr/bin/python3
"""Writes the Office fixtures of the malware scanner's tests with LibreOffice (see test/fixtures/macros/README.md).

Usage: /usr/bin/python3 test/support/clamd/make-macro-fixtures.py test/fixtures
Needs Debian's libreoffice-calc, libreoffice-writer and python3-uno (the system python3, which has uno).

LibreOffice writes a VBA project only into OOXML (its VbaExport, for a document in VBA compatibility
mode whose library is named after the project), and keeps the original VBA storage of a loaded
document when it saves a binary one ("Save original Basic code"). So a macro workbook is made in
two steps, both by LibreOffice: a new .xlsm with the macro, then that .xlsm loaded and saved as .xls,
which carries the project in its _VBA_PROJECT_CUR storage as Excel's own files do.
"""
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.script import ModuleInfo


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


# Excel runs Auto_Open in a standard module when the workbook opens; the test .ldb signature looks for
# such a macro calling Shell (never run here: the fixture is only scanned).
AUTO_OPEN_SHELL = 'Sub Auto_Open()\n    Shell "cmd.exe /c echo attache-test"\nEnd Sub\n'
HARMLESS = 'Function Total(a, b)\n    Total = a + b\nEnd Function\n'


class Office:
    def __init__(self, profile_dir):
        self.port = 20000 + os.getpid() % 10000
        self.proc = subprocess.Popen(
            ['soffice', '--headless', '--norestore', '--nologo', '-env:UserInstallation=' + uno.systemPathToFileUrl(profile_dir),
             f'--accept=socket,host=127.0.0.1,port={self.port};urp;'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext('com.sun.star.bridge.UnoUrlResolver', local)
        for _ in range(240):
            try:
                self.ctx = resolver.resolve(f'uno:socket,host=127.0.0.1,port={self.port};urp;StarOffice.ComponentContext')
                break
            except Exception:
                time.sleep(0.25)
        else:
            raise RuntimeError('LibreOffice did not start')
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext('com.sun.star.frame.Desktop', self.ctx)
        provider = smgr.createInstanceWithContext('com.sun.star.configuration.ConfigurationProvider', self.ctx)
        # Tools > Options > Load/Save > VBA Properties: load Basic code, keep it executable, save the original.
        vba = provider.createInstanceWithArguments('com.sun.star.configuration.ConfigurationUpdateAccess',
                                                   (prop('nodepath', '/org.openoffice.Office.Calc/Filter/Import/VBA'),))
        for name in ('Load', 'Executable', 'Save', 'UseExport'):
            vba.setPropertyValue(name, True)
        vba.commitChanges()

    def new(self, factory):
        return self.desktop.loadComponentFromURL('private:factory/' + factory, '_blank', 0, (prop('Hidden', True),))

    def load(self, path):
        return self.desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), '_blank', 0, (prop('Hidden', True),))

    @staticmethod
    def save(doc, path, filter_name):
        doc.storeToURL(uno.systemPathToFileUrl(path), (prop('FilterName', filter_name),))
        doc.close(True)

    def stop(self):
        try:
            self.desktop.terminate()
        except Exception:
            pass  # the connection drops as it quits
        self.proc.wait(timeout=60)


def add_vba_module(doc, code):
    libraries = doc.BasicLibraries
    libraries.VBACompatibilityMode = True
    libraries.ProjectName = 'VBAProject'
    library = libraries.createLibrary('VBAProject')
    library.insertByName('Module1', 'Option VBASupport 1\n' + code)
    info = ModuleInfo()
    info.ModuleType = uno.getConstantByName('com.sun.star.script.ModuleType.NORMAL')
    library.insertModuleInfo('Module1', info)


def macro_workbook(office, work, code, out):
    doc = office.new('scalc')
    doc.Sheets.getByIndex(0).getCellByPosition(0, 0).setString('Quarterly figures')
    add_vba_module(doc, code)
    xlsm = os.path.join(work, 'macro.xlsm')
    office.save(doc, xlsm, 'Calc MS Excel 2007 VBA XML')
    office.save(office.load(xlsm), out, 'MS Excel 97')


def main(out_dir):
    out_dir = os.path.abspath(out_dir)
    with tempfile.TemporaryDirectory(prefix='attache-lo-') as work:
        office = Office(os.path.join(work, 'profile'))
        try:
            macro_workbook(office, work, AUTO_OPEN_SHELL, os.path.join(out_dir, 'vba-auto-open-shell.xls'))
            macro_workbook(office, work, HARMLESS, os.path.join(out_dir, 'vba-harmless-function.xls'))
            sheet = office.new('scalc')
            sheet.Sheets.getByIndex(0).getCellByPosition(0, 0).setString('Quarterly figures')
            office.save(sheet, os.path.join(out_dir, 'no-macros.xls'), 'MS Excel 97')
            text = office.new('swriter')
            text.Text.setString('Quarterly figures')
            office.save(text, os.path.join(out_dir, 'no-macros.doc'), 'MS Word 97')
        finally:
            office.stop()


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures')
