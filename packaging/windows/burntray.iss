; Inno Setup 6 script for burntray: a per-user installer (no admin rights), Start menu entry,
; optional "start at login" and "add to PATH" tasks, and an uninstaller.
;
; Built by packaging/make_package.py (make package) on Windows after PyInstaller, by
; packaging/windows/build_wine.py (make package-windows) on Linux under Wine, or by hand:
;   iscc /DAppVersion=0.1.0 /DSourceDir=dist\burntray /DOutputDir=dist packaging\windows\burntray.iss
; AppVersion must come from the build (burntray.__version__): nothing is baked in here.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (packaging/make_package.py does)
#endif
#define RepoRoot AddBackslash(SourcePath) + "..\.."
#ifndef SourceDir
  #define SourceDir RepoRoot + "\dist\burntray"
#endif
#ifndef OutputDir
  #define OutputDir RepoRoot + "\dist"
#endif
; The windowed exe: what the Start menu, the Run key and "launch now" start (no console window).
#define GuiExe "burntrayw.exe"

[Setup]
AppId={{6E1F3C52-8B0D-4C52-9E0B-7B3A9C1D2F47}
AppName=burntray
AppVersion={#AppVersion}
AppVerName=burntray {#AppVersion}
AppPublisher=The burntray developers
AppPublisherURL=https://github.com/burntray/burntray
VersionInfoVersion={#AppVersion}
PrivilegesRequired=lowest
; {localappdata}\Programs is where a per-user install goes on Windows ({autopf} under
; PrivilegesRequired=lowest names the same folder, but Wine cannot expand {autopf}).
DefaultDirName={localappdata}\Programs\burntray
DefaultGroupName=burntray
DisableProgramGroupPage=yes
DisableDirPage=auto
OutputDir={#OutputDir}
OutputBaseFilename=burntray-{#AppVersion}-setup
SetupIconFile={#RepoRoot}\assets\app\burntray.ico
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName=burntray
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
ChangesEnvironment=yes

[Tasks]
Name: "startatlogin"; Description: "Start burntray when I sign in"; GroupDescription: "Options:"; Flags: unchecked
Name: "addtopath"; Description: "Add burntray to PATH (for ""burntray status"" in a terminal)"; GroupDescription: "Options:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\burntray"; Filename: "{app}\{#GuiExe}"; IconFilename: "{app}\{#GuiExe}"
Name: "{autoprograms}\Uninstall burntray"; Filename: "{uninstallexe}"

[Registry]
; The same value `burntray autostart on` writes, so the app's menu shows it as on.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "burntray"; ValueData: """{app}\{#GuiExe}"""; Tasks: startatlogin
; PathWithApp, not "{olddata};{app}": a user with no Path yet must not get one starting with ";".
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{code:PathWithApp}"; Tasks: addtopath; Check: NotOnPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#GuiExe}"; Description: "Start burntray now"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#GuiExe}"; Flags: runhidden; RunOnceId: "StopBurntray"

[Code]
const
  RunKey = 'Software\Microsoft\Windows\CurrentVersion\Run';

function SamePathEntry(Entry, Dir: string): Boolean;
begin
  Entry := Trim(Entry);
  if (Length(Entry) > 0) and (Entry[Length(Entry)] = '\') then
    Entry := Copy(Entry, 1, Length(Entry) - 1);
  Result := CompareText(Entry, Dir) = 0;
end;

function NotOnPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

{ The user's Path with the app's folder appended: just the folder when there was no Path (or an
  empty one), and no doubled ";" when the old value already ends with one. }
function PathWithApp(Param: string): string;
var
  Path: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    Path := '';
  Path := Trim(Path);
  if Path = '' then
    Result := ExpandConstant('{app}')
  else if Path[Length(Path)] = ';' then
    Result := Path + ExpandConstant('{app}')
  else
    Result := Path + ';' + ExpandConstant('{app}');
end;

{ Every entry equal to Dir is dropped, wherever it stands; the others keep their order. A Path
  left empty is deleted, so uninstalling leaves no empty value behind. }
procedure RemoveFromPath(Dir: string);
var
  Path, Rest, Entry, Kept: string;
  P: Integer;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    exit;
  Rest := Path;
  Kept := '';
  while Rest <> '' do
  begin
    P := Pos(';', Rest);
    if P = 0 then
    begin
      Entry := Rest;
      Rest := '';
    end
    else
    begin
      Entry := Copy(Rest, 1, P - 1);
      Rest := Copy(Rest, P + 1, Length(Rest));
    end;
    if (Trim(Entry) <> '') and not SamePathEntry(Entry, Dir) then
    begin
      if Kept <> '' then
        Kept := Kept + ';';
      Kept := Kept + Entry;
    end;
  end;
  if Kept = '' then
    RegDeleteValue(HKCU, 'Environment', 'Path')
  else if Kept <> Path then
    RegWriteExpandStringValue(HKCU, 'Environment', 'Path', Kept);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
  begin
    { Start at login may have been switched on from the app's menu after installing: remove
      it whichever way it was set, so nothing points at the deleted exe. }
    RegDeleteValue(HKCU, RunKey, 'burntray');
    RemoveFromPath(ExpandConstant('{app}'));
  end;
end;
