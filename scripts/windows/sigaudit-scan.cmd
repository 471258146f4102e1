@echo off
rem sigaudit-scan.cmd: scan a folder (a share such as \\may-chu\tai-lieu\So Y te,
rem or a folder on this computer) and open the report in the browser.
rem Double-click it and choose the folder, drag a folder onto it, or run
rem     sigaudit-scan.cmd "D:\Van ban" [more sigaudit scan options]
rem This file stays ASCII: cmd.exe reads a .cmd in the console's code
rem page, so the Vietnamese below is written without diacritics.
rem SIGAUDIT_BATCH=1 (scheduled tasks): no folder dialog, no download,
rem no browser, no pause. SIGAUDIT_OUT: the report folder.
setlocal EnableExtensions
set "RC=1"
rem UTF-8 console: folder names with Vietnamese letters print and pass intact.
chcp 65001 >nul

set "HERE=%~dp0"
set "EXE=%HERE%sigaudit.exe"
if not exist "%EXE%" (
  echo Khong tim thay sigaudit.exe canh tep nay / sigaudit.exe is not beside this file: %HERE%
  goto :end
)

set "FOLDER=%~1"
if not "%~1"=="" shift
if "%FOLDER%"=="" if not defined SIGAUDIT_BATCH (
  rem The Windows folder picker, through PowerShell (Windows 7 and later).
  for /f "usebackq delims=" %%F in (`powershell -NoProfile -STA -Command "[Console]::OutputEncoding=[Text.Encoding]::UTF8; Add-Type -AssemblyName System.Windows.Forms; $d=New-Object System.Windows.Forms.FolderBrowserDialog; $d.Description='Chon thu muc can kiem tra chu ky so / Choose the folder to scan'; $d.ShowNewFolderButton=$false; if ($d.ShowDialog() -eq 'OK') { $d.SelectedPath }" 2^>nul`) do set "FOLDER=%%F"
)
if "%FOLDER%"=="" if not defined SIGAUDIT_BATCH set /p "FOLDER=Thu muc can kiem tra / Folder to scan: "
if "%FOLDER%"=="" (
  echo Chua chon thu muc / No folder chosen.
  goto :end
)

rem The report goes to Documents\sigaudit-report unless SIGAUDIT_OUT says otherwise.
if not defined SIGAUDIT_OUT set "SIGAUDIT_OUT=%USERPROFILE%\Documents\sigaudit-report"

rem The government CA's certificates, downloaded once from their official
rem addresses into %LOCALAPPDATA%\sigaudit\anchors; without the network
rem the scan still runs, with the certificates the rules pin.
if not defined SIGAUDIT_BATCH if not exist "%LOCALAPPDATA%\sigaudit\anchors" (
  echo Tai chung thu CA lan dau / Downloading the CA certificates once...
  "%EXE%" rules fetch-anchors
)

rem Options after the folder pass through to sigaudit scan.
set "MORE="
:more
if "%~1"=="" goto :run
set MORE=%MORE% %1
shift
goto :more

:run
echo Dang kiem tra / Scanning: %FOLDER%
echo Bao cao / Report: %SIGAUDIT_OUT%
"%EXE%" scan "%FOLDER%" --out "%SIGAUDIT_OUT%" %MORE%
set "RC=%ERRORLEVEL%"
rem 0: done; 2: some files could not be read (errors.csv); 3: below
rem --fail-under; 1: the scan could not run; 130: stopped with Ctrl-C.
if "%RC%"=="1" (
  echo sigaudit khong chay duoc, xem thong bao o tren / sigaudit could not run, see the message above
  goto :end
)
if "%RC%"=="130" (
  echo Da dung, bao cao cu giu nguyen / Stopped, the previous report is unchanged
  goto :end
)
if "%RC%"=="2" echo Mot so tep khong doc duoc, xem errors.csv / Some files could not be read, see errors.csv
if not defined SIGAUDIT_BATCH if exist "%SIGAUDIT_OUT%\index.html" start "" "%SIGAUDIT_OUT%\index.html"

:end
if not defined SIGAUDIT_BATCH pause
exit /b %RC%
