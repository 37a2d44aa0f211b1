# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""XML documents as EM writes them.

Strings are built directly (no DOM) because a 10,000-entity query page must render in
a few tens of milliseconds. Attribute order and link order follow the documentation
samples, which differ between forms: entities ``Href Type Name UID`` with links
``Href Name Type Rel``, references ``UID Name Href Type``, entities of a query page and
backup servers ``Type Href Name UID`` with links ``Rel Type Href Name`` closed by `` />``;
reference forms list the backup server before the repository, entity forms the
repository first. Entities, repositories, servers and restore points are linked under
EM's own host name (``EM_HREF_BASE``), not the address the client called; single
objects (``GET /api/<collection>/<id>``) start with a UTF-8 byte order mark, as some
EM responses do. A child backup's parent link carries the placeholder name EM gives
it, ``Parent Backup``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .data import (
    Backup,
    BackupServer,
    DataSet,
    Job,
    JobSession,
    Repository,
    RestorePoint,
    TaskSession,
    VmRestorePoint,
)

NAMESPACE = "http://www.veeam.com/ent/v1.0"
ROOT_NS = (
    f' xmlns="{NAMESPACE}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
PROLOG = '<?xml version="1.0" encoding="utf-8"?>'
BOM = b"\xef\xbb\xbf"
#: Scheme, host and port EM builds its Hrefs from: its own name, not the caller's.
EM_HREF_BASE = "https://em01.emulator.test:9398"
#: The name EM gives every ChildBackup's link to its parent.
PARENT_LINK_NAME = "Parent Backup"

# EM escapes these in names and text (special_symbols.html); "/" is not escaped in
# Hrefs, where it would only make URLs unreadable.
_TEXT_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "/": "&#x2F;"}
)
_HREF_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
)

PLURAL_TAGS: dict[type, str] = {
    Backup: "Backups",
    Repository: "Repositories",
    BackupServer: "BackupServers",
    RestorePoint: "RestorePoints",
    VmRestorePoint: "VmRestorePoints",
    Job: "Jobs",
    JobSession: "BackupJobSessions",
    TaskSession: "BackupTaskSessions",
}

# API versions of VBR 12/13 (v1_5 and v1_6 deprecated); the last one is "latest".
SUPPORTED_VERSIONS = ("v1_5", "v1_6", "v1_7")


def escape_text(value: str) -> str:
    """Escape a Name/Message attribute or element text."""
    return value.translate(_TEXT_ENTITIES)


def escape_href(value: str) -> str:
    """Escape an Href attribute (``&`` between query parameters becomes ``&amp;``)."""
    return value.translate(_HREF_ENTITIES)


def document(root: str, bom: bool = False) -> bytes:
    """Prefix the prolog EM sends (and a byte order mark) and encode as UTF-8."""
    return (BOM if bom else b"") + f"{PROLOG}{root}".encode()


def _link(href: str, rel: str, type_: str | None = None, name: str | None = None,
          rel_first: bool = False) -> str:
    """One ``<Link>``; ``href`` and ``name`` must already be escaped. ``rel_first``:
    ``Rel Type Href Name`` and `` />``, else ``Href Name Type Rel`` and ``/>``."""
    name_attr = f' Name="{name}"' if name is not None else ""
    type_attr = f' Type="{type_}"' if type_ is not None else ""
    if rel_first:
        return f'<Link Rel="{rel}"{type_attr} Href="{href}"{name_attr} />'
    return f'<Link Href="{href}"{name_attr}{type_attr} Rel="{rel}"/>'


def _links(links: Iterable[str]) -> str:
    return f"<Links>{''.join(links)}</Links>"


def _element(tag: str, text: str) -> str:
    return f"<{tag}>{text}</{tag}>" if text else f"<{tag} />"


def dotnet_utc(when: datetime) -> str:
    """``DateTime`` as EM prints it: up to 7 fractional digits, trailing zeros dropped."""
    fraction = f"{when.microsecond:06d}0".rstrip("0")
    return f"{when:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z"


class Renderer:
    """Renders the data set's objects with Hrefs built on one base URL.

    ``base`` is the scheme, host and port the client called, for the session and
    service documents and the paging links; objects are linked under ``EM_HREF_BASE``,
    and a backup with its own ``href_base`` (the seed) keeps that one for itself and
    the links it carries.
    """

    def __init__(self, data: DataSet, base: str) -> None:
        self.data = data
        self.base = escape_href(base)
        self.em_base = EM_HREF_BASE
        # Links of entities in a query page, and of backup servers, are written Rel first.
        self._rel_first = False
        self._entities = {
            Backup: self.backup_entity,
            Repository: self.repository_entity,
            BackupServer: self.backup_server_entity,
            RestorePoint: self.restore_point_entity,
            VmRestorePoint: self.vm_restore_point_entity,
            Job: self.job_entity,
            JobSession: self.job_session_entity,
            TaskSession: self.task_session_entity,
        }
        self._refs = {
            Backup: self.backup_ref,
            Repository: self.repository_ref,
            BackupServer: self.backup_server_ref,
            RestorePoint: self.restore_point_ref,
            VmRestorePoint: self.vm_restore_point_ref,
            Job: self.job_ref,
            JobSession: self.job_session_ref,
            TaskSession: self.task_session_ref,
        }

    # --- generic dispatch -----------------------------------------------------------------
    def entity(self, obj: object, ns: str = "") -> str:
        """Entity form of any data-set object (``ns`` = ROOT_NS for a document root)."""
        return self._entities[type(obj)](obj, ns)

    def ref(self, obj: object, tag: str = "Ref", ns: str = "") -> str:
        """Reference form: ``EntityRef`` for a single object, ``Ref`` inside lists."""
        return self._refs[type(obj)](obj, tag, ns)

    def entity_references(self, objects: Iterable[object]) -> bytes:
        """``EntityReferences`` document (``GET /api/<collection>``)."""
        refs = "".join(self.ref(obj) for obj in objects)
        return document(f"<EntityReferences{ROOT_NS}>{refs}</EntityReferences>"
                        if refs else f"<EntityReferences{ROOT_NS} />")

    def entity_list(self, kind: type, objects: Iterable[object]) -> bytes:
        """Plural entity document (``GET /api/<collection>?format=Entity``)."""
        tag = PLURAL_TAGS[kind]
        body = "".join(self.entity(obj) for obj in objects)
        return document(f"<{tag}{ROOT_NS}>{body}</{tag}>" if body else f"<{tag}{ROOT_NS} />")

    # --- backups -------------------------------------------------------------------------
    def backup_entity(self, backup: Backup, ns: str = "") -> str:
        base = backup.href_base or self.em_base
        url = f"{base}/api/backups/{backup.id}"
        name = escape_text(backup.name)
        links = [*self._repository_link(backup, base), self._server_link(backup, base),
                 self._link(url, "Alternate", "BackupReference", name),
                 *self._backup_tail_links(backup, base, url, entity=True)]
        return (f'<Backup {self._entity_attributes(f"{url}?format=Entity", "Backup", name)}'
                f' UID="urn:veeam:Backup:{backup.id}"{ns}>{_links(links)}'
                f"<Platform>{backup.platform}</Platform>"
                f"<BackupType>{backup.backup_type}</BackupType></Backup>")

    def backup_ref(self, backup: Backup, tag: str = "Ref", ns: str = "") -> str:
        base = backup.href_base or self.em_base
        url = f"{base}/api/backups/{backup.id}"
        name = escape_text(backup.name)
        links = [self._server_link(backup, base), *self._repository_link(backup, base),
                 self._link(f"{url}?format=Entity", "Alternate", "Backup", name),
                 *self._backup_tail_links(backup, base, url, entity=False)]
        return (f'<{tag} UID="urn:veeam:Backup:{backup.id}" Name="{name}" Href="{url}"'
                f' Type="BackupReference"{ns}>{_links(links)}</{tag}>')

    def _entity_attributes(self, href: str, type_: str, name: str) -> str:
        """``Href Type Name`` of an entity, ``Type Href Name`` in a query page."""
        if self._rel_first:
            return f'Type="{type_}" Href="{href}" Name="{name}"'
        return f'Href="{href}" Type="{type_}" Name="{name}"'

    def _link(self, href: str, rel: str, type_: str | None = None,
              name: str | None = None) -> str:
        return _link(href, rel, type_, name, self._rel_first)

    def _server_link(self, backup: Backup, base: str) -> str:
        server = self.data.backup_servers[backup.server_id]
        return self._link(f"{base}/api/backupServers/{server.id}", "Up", "BackupServerReference",
                          escape_text(server.name))

    def _repository_link(self, backup: Backup, base: str) -> list[str]:
        if backup.repository_id is None:
            return []
        repository = self.data.repositories[backup.repository_id]
        return [self._link(f"{base}/api/repositories/{repository.id}", "Up",
                           "RepositoryReference", escape_text(repository.name))]

    def _backup_tail_links(self, backup: Backup, base: str, url: str, entity: bool) -> list[str]:
        """Links after Alternate: children or restore points, backup files, parent."""
        links = []
        if backup.children_rel is not None:
            links.append(self._link(f"{url}/childbackups?format=Entity", backup.children_rel,
                                    "BackupList") if entity else
                         self._link(f"{url}/childbackups", backup.children_rel,
                                    "BackupReferenceList"))
        else:
            links.append(self._link(f"{url}/restorePoints", "Down", "RestorePointReferenceList"))
        if backup.backup_files_link:
            links.append(self._link(f"{url}/backupFiles", "Down", "BackupFileReferenceList"))
        if backup.parent_id is not None:
            # EM names the parent link with a placeholder, not the parent's name, and
            # links a parent it may no longer have.
            parent_url = f"{base}/api/backups/{backup.parent_id}"
            links.append(self._link(f"{parent_url}?format=Entity", "Up", "Backup",
                                    PARENT_LINK_NAME) if entity else
                         self._link(parent_url, "Up", "BackupReference", PARENT_LINK_NAME))
        return links

    # --- repositories --------------------------------------------------------------------
    def repository_entity(self, repository: Repository, ns: str = "") -> str:
        url = f"{self.em_base}/api/repositories/{repository.id}"
        name = escape_text(repository.name)
        links = [self._owner_link(repository.server_id),
                 self._link(url, "Alternate", "RepositoryReference", name),
                 self._link(f"{url}/backups", "Down", "BackupReferenceList")]
        return (f'<Repository {self._entity_attributes(f"{url}?format=Entity", "Repository", name)}'
                f' UID="urn:veeam:Repository:{repository.id}"{ns}>{_links(links)}'
                f"<Capacity>{repository.capacity}</Capacity>"
                f"<FreeSpace>{repository.free_space}</FreeSpace>"
                f"<Kind>{repository.kind}</Kind></Repository>")

    def repository_ref(self, repository: Repository, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/repositories/{repository.id}"
        name = escape_text(repository.name)
        links = [self._owner_link(repository.server_id),
                 self._link(f"{url}?format=Entity", "Alternate", "Repository", name),
                 self._link(f"{url}/backups", "Down", "BackupReferenceList")]
        return (f'<{tag} UID="urn:veeam:Repository:{repository.id}" Name="{name}" Href="{url}"'
                f' Type="RepositoryReference"{ns}>{_links(links)}</{tag}>')

    def _owner_link(self, server_id: str) -> str:
        server = self.data.backup_servers[server_id]
        return self._link(f"{self.em_base}/api/backupServers/{server.id}", "Up",
                          "BackupServerReference", escape_text(server.name))

    # --- backup servers ------------------------------------------------------------------
    def backup_server_entity(self, server: BackupServer, ns: str = "") -> str:
        """Written Rel first in every form, as the documented backup server entity is."""
        url = f"{self.em_base}/api/backupServers/{server.id}"
        name = escape_text(server.name)
        links = [_link(url, "Alternate", "BackupServerReference", name, rel_first=True),
                 _link(f"{url}/jobs", "Down", "JobReferenceList", rel_first=True),
                 _link(f"{url}/repositories", "Down", "RepositoryReferenceList", rel_first=True)]
        wcf_port = f"<WcfPort>{server.wcf_port}</WcfPort>" if server.wcf_port else ""
        return (f'<BackupServer Type="BackupServer" Href="{url}?format=Entity" Name="{name}"'
                f' UID="urn:veeam:BackupServer:{server.id}"{ns}>{_links(links)}'
                f"{_element('Description', escape_text(server.description))}"
                f"<Port>{server.port}</Port><Version>{server.version}</Version>{wcf_port}"
                "</BackupServer>")

    def backup_server_ref(self, server: BackupServer, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/backupServers/{server.id}"
        name = escape_text(server.name)
        links = [self._link(f"{url}/jobs", "Down", "JobReferenceList"),
                 self._link(f"{url}/repositories", "Down", "RepositoryReferenceList"),
                 self._link(f"{url}?format=Entity", "Alternate", "BackupServer", name)]
        return (f'<{tag} UID="urn:veeam:BackupServer:{server.id}" Name="{name}" Href="{url}"'
                f' Type="BackupServerReference"{ns}>{_links(links)}</{tag}>')

    # --- restore points ------------------------------------------------------------------
    def restore_point_entity(self, point: RestorePoint, ns: str = "") -> str:
        url = f"{self.em_base}/api/restorePoints/{point.id}"
        name = escape_text(point.name)
        links = [*self._point_up_links(point),
                 self._link(url, "Alternate", "RestorePointReference", name),
                 *self._point_down_links(url)]
        return (f'<RestorePoint {self._entity_attributes(f"{url}?format=Entity", "RestorePoint", name)}'
                f' UID="urn:veeam:RestorePoint:{point.id}"{ns}>{_links(links)}'
                f"<BackupDateUTC>{dotnet_utc(point.backup_date)}</BackupDateUTC></RestorePoint>")

    def restore_point_ref(self, point: RestorePoint, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/restorePoints/{point.id}"
        name = escape_text(point.name)
        links = [*self._point_up_links(point),
                 self._link(f"{url}?format=Entity", "Alternate", "RestorePoint", name),
                 *self._point_down_links(url)]
        return (f'<{tag} UID="urn:veeam:RestorePoint:{point.id}" Name="{name}" Href="{url}"'
                f' Type="RestorePointReference"{ns}>{_links(links)}</{tag}>')

    def _point_up_links(self, point: RestorePoint) -> list[str]:
        backup = self.data.backups[point.backup_id]
        return [self._link(f"{self.em_base}/api/backups/{backup.id}", "Up", "BackupReference",
                           escape_text(backup.name)),
                self._owner_link(backup.server_id)]

    def _point_down_links(self, url: str) -> list[str]:
        return [self._link(f"{url}/vmRestorePoints", "Down", "VmRestorePointReferenceList"),
                self._link(f"{url}/backupFiles", "Related", "BackupFileReferenceList")]

    # --- VM restore points ---------------------------------------------------------------
    def vm_restore_point_entity(self, point: VmRestorePoint, ns: str = "") -> str:
        """As the documented entity: ``VmDisplayName`` after ``Name`` (newer versions), a
        Restore action link without Type, three Up links, the mounts links; the VM's name
        again in ``VmName``."""
        url = f"{self.em_base}/api/vmRestorePoints/{point.id}"
        name = escape_text(point.name)
        links = [self._link(f"{url}?action=restore", "Restore"), *self._vm_point_up_links(point),
                 self._link(url, "Alternate", "VmRestorePointReference", name),
                 self._link(f"{url}/mounts", "Down", "VmRestorePointMountList"),
                 self._link(f"{url}/mounts", "Create", "VmRestorePointMount")]
        return (f'<VmRestorePoint {self._entity_attributes(f"{url}?format=Entity", "VmRestorePoint", name)}'
                f' VmDisplayName="{escape_text(point.vm_name)}"'
                f' UID="urn:veeam:VmRestorePoint:{point.id}"{ns}>{_links(links)}'
                f"<CreationTimeUTC>{dotnet_utc(point.creation_time)}</CreationTimeUTC>"
                f"<VmName>{escape_text(point.vm_name)}</VmName>"
                f"<Algorithm>{point.algorithm}</Algorithm><PointType>{point.point_type}</PointType>"
                f"<HierarchyObjRef>{point.hierarchy_ref}</HierarchyObjRef></VmRestorePoint>")

    def vm_restore_point_ref(self, point: VmRestorePoint, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/vmRestorePoints/{point.id}"
        name = escape_text(point.name)
        links = [*self._vm_point_up_links(point),
                 self._link(f"{url}?format=Entity", "Alternate", "VmRestorePoint", name)]
        return (f'<{tag} UID="urn:veeam:VmRestorePoint:{point.id}" Name="{name}" Href="{url}"'
                f' Type="VmRestorePointReference"{ns}>{_links(links)}</{tag}>')

    def _vm_point_up_links(self, point: VmRestorePoint) -> list[str]:
        """Up to the backup server, the restore point and the backup file; no link names the backup."""
        restore_point = self.data.restore_points[point.restore_point_id]
        backup = self.data.backups[restore_point.backup_id]
        file_name = f"{backup.name}D{restore_point.backup_date:%Y-%m-%dT%H%M%S}.vib"
        return [self._owner_link(backup.server_id),
                self._link(f"{self.em_base}/api/restorePoints/{restore_point.id}", "Up",
                           "RestorePointReference", escape_text(restore_point.name)),
                self._link(f"{self.em_base}/api/backupFiles/{point.backup_file_id}", "Up",
                           "BackupFileReference", escape_text(file_name))]

    # --- jobs, job sessions, task sessions ---------------------------------------------------
    def job_entity(self, job: Job, ns: str = "") -> str:
        url = f"{self.em_base}/api/jobs/{job.id}"
        name = escape_text(job.name)
        links = [self._owner_link(job.server_id), self._link(url, "Alternate", "JobReference", name),
                 self._link(f"{url}/backupSessions", "Down", "BackupJobSessionReferenceList"),
                 self._link(f"{url}?action=start", "Start"), self._link(f"{url}?action=retry", "Retry")]
        return (f'<Job {self._entity_attributes(f"{url}?format=Entity", "Job", name)}'
                f' UID="urn:veeam:Job:{job.id}"{ns}>{_links(links)}'
                f"<JobType>{job.job_type}</JobType><Platform>{job.platform}</Platform>"
                f"{_element('Description', escape_text(job.description))}"
                "<ScheduleConfigured>true</ScheduleConfigured><ScheduleEnabled>true</ScheduleEnabled></Job>")

    def job_ref(self, job: Job, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/jobs/{job.id}"
        name = escape_text(job.name)
        links = [self._owner_link(job.server_id), self._link(f"{url}?format=Entity", "Alternate", "Job", name),
                 self._link(f"{url}/backupSessions", "Down", "BackupJobSessionReferenceList")]
        return (f'<{tag} UID="urn:veeam:Job:{job.id}" Name="{name}" Href="{url}"'
                f' Type="JobReference"{ns}>{_links(links)}</{tag}>')

    def job_session_entity(self, session: JobSession, ns: str = "") -> str:
        """As the documented entity: a ``Stop`` link on any session, no ``EndTimeUTC`` while running."""
        url = f"{self.em_base}/api/backupSessions/{session.id}"
        name = escape_text(self.data.session_name(session))
        job = self.data.jobs[session.job_id]
        links = [*self._session_up_links(session),
                 self._link(url, "Alternate", "BackupJobSessionReference", name),
                 self._link(f"{url}/taskSessions", "Down", "BackupTaskSessionReferenceList"),
                 self._link(f"{url}?action=stop", "Stop")]
        end = f"<EndTimeUTC>{dotnet_utc(session.end_time)}</EndTimeUTC>" if session.end_time else ""
        return (f'<BackupJobSession {self._entity_attributes(f"{url}?format=Entity", "BackupJobSession", name)}'
                f' UID="urn:veeam:BackupJobSession:{session.id}"{ns}>{_links(links)}'
                f"<JobUid>urn:veeam:Job:{job.id}</JobUid><JobName>{escape_text(job.name)}</JobName>"
                f"<JobType>{job.job_type}</JobType>"
                f"<CreationTimeUTC>{dotnet_utc(session.creation_time)}</CreationTimeUTC>{end}"
                f"<State>{session.state}</State><Result>{session.result}</Result>"
                f"<Progress>{session.progress}</Progress><IsRetry>{str(session.is_retry).lower()}</IsRetry>"
                "</BackupJobSession>")

    def job_session_ref(self, session: JobSession, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/backupSessions/{session.id}"
        name = escape_text(self.data.session_name(session))
        links = [*self._session_up_links(session),
                 self._link(f"{url}?format=Entity", "Alternate", "BackupJobSession", name),
                 self._link(f"{url}/taskSessions", "Down", "BackupTaskSessionReferenceList")]
        return (f'<{tag} UID="urn:veeam:BackupJobSession:{session.id}" Name="{name}" Href="{url}"'
                f' Type="BackupJobSessionReference"{ns}>{_links(links)}</{tag}>')

    def _session_up_links(self, session: JobSession) -> list[str]:
        job = self.data.jobs[session.job_id]
        return [self._owner_link(job.server_id),
                self._link(f"{self.em_base}/api/jobs/{job.id}", "Up", "JobReference", escape_text(job.name))]

    def task_session_entity(self, task: TaskSession, ns: str = "") -> str:
        url = f"{self.em_base}/api/backupTaskSessions/{task.id}"
        name = escape_text(f"{task.vm_name}@{task.creation_time:%Y-%m-%d %H:%M:%S}")
        links = [*self._task_up_links(task), self._link(url, "Alternate", "BackupTaskSessionReference", name)]
        return (f'<BackupTaskSession {self._entity_attributes(f"{url}?format=Entity", "BackupTaskSession", name)}'
                f' UID="urn:veeam:BackupTaskSession:{task.id}" VmDisplayName="{escape_text(task.vm_name)}"{ns}>'
                f"{_links(links)}<JobSessionUid>urn:veeam:BackupJobSession:{task.session_id}</JobSessionUid>"
                f"<CreationTimeUTC>{dotnet_utc(task.creation_time)}</CreationTimeUTC>"
                f"<EndTimeUTC>{dotnet_utc(task.end_time)}</EndTimeUTC>"
                f"<State>{task.state}</State><Result>{task.result}</Result>"
                f"{_element('Reason', escape_text(task.reason))}<TotalSize>{task.total_size}</TotalSize>"
                "</BackupTaskSession>")

    def task_session_ref(self, task: TaskSession, tag: str = "Ref", ns: str = "") -> str:
        url = f"{self.em_base}/api/backupTaskSessions/{task.id}"
        name = escape_text(f"{task.vm_name}@{task.creation_time:%Y-%m-%d %H:%M:%S}")
        links = [*self._task_up_links(task), self._link(f"{url}?format=Entity", "Alternate", "BackupTaskSession", name)]
        return (f'<{tag} UID="urn:veeam:BackupTaskSession:{task.id}" Name="{name}" Href="{url}"'
                f' Type="BackupTaskSessionReference"{ns}>{_links(links)}</{tag}>')

    def _task_up_links(self, task: TaskSession) -> list[str]:
        session = self.data.job_sessions[task.session_id]
        return [self._owner_link(self.data.jobs[session.job_id].server_id),
                self._link(f"{self.em_base}/api/backupSessions/{session.id}", "Up", "BackupJobSessionReference",
                           escape_text(self.data.session_name(session)))]

    # --- service documents ---------------------------------------------------------------
    def enterprise_manager(self) -> bytes:
        """``GET /api/``: the entry point, with one Create link per API version."""
        api = f"{self.base}/api"
        versions = "".join(
            f'<SupportedVersion Name="{version}">'
            f'{_links([_link(f"{api}/sessionMngr/?v={version}", "Create", "LogonSession")])}'
            "</SupportedVersion>"
            for version in SUPPORTED_VERSIONS
        )
        links = [_link(f"{api}/logonSessions", "Down", "LogonSessionList"),
                 _link(f"{api}/sessionMngr/?v=latest", "Create", "LogonSession")]
        return document(f"<EnterpriseManager{ROOT_NS}>{_links(links)}"
                        f"<SupportedVersions>{versions}</SupportedVersions></EnterpriseManager>")

    def logon_session(self, session_id: str, user_name: str, ns: str = ROOT_NS) -> str:
        """A ``LogonSession`` element (the logon response body and list items)."""
        api = f"{self.base}/api"
        url = f"{api}/logonSessions/{session_id}"
        links = [
            _link(f"{api}/", "Up", "EnterpriseManager"),
            _link(f"{api}/backupServers", "Down", "BackupServerReferenceList"),
            _link(f"{api}/repositories", "Down", "RepositoryReferenceList"),
            _link(f"{api}/backups", "Down", "BackupReferenceList"),
            _link(f"{api}/restorePoints", "Down", "RestorePointReferenceList"),
            _link(f"{api}/querySvc", "Down", "QueryService"),
            _link(f"{api}/backups?format=Entity", "Down", "BackupList"),
            _link(url, "Delete"),
        ]
        return (f'<LogonSession Href="{url}" Type="LogonSession"{ns}>{_links(links)}'
                f"<UserName>{escape_text(user_name)}</UserName>"
                f"<SessionId>{session_id}</SessionId></LogonSession>")

    def logon_sessions(self, sessions: Iterable[tuple[str, str]]) -> bytes:
        """``LogonSessions`` of (session id, user name) pairs."""
        items = "".join(self.logon_session(sid, user, ns="") for sid, user in sessions)
        return document(f"<LogonSessions{ROOT_NS}>{items}</LogonSessions>"
                        if items else f"<LogonSessions{ROOT_NS} />")

    def query_result(self, kind: type, objects: list, entities: bool,
                     paging: tuple[int, int, int], page_links: list[tuple[str, str]]) -> bytes:
        """``QueryResult``: ``paging`` is (page, page size, pages count); ``page_links``
        holds (rel, unescaped href) pairs."""
        if entities:
            tag = PLURAL_TAGS[kind]
            self._rel_first = True
            try:
                body = "".join(self.entity(obj) for obj in objects)
            finally:
                self._rel_first = False
            content = f"<Entities><{tag}>{body}</{tag}></Entities>" if body else \
                f"<Entities><{tag} /></Entities>"
        else:
            body = "".join(self.ref(obj) for obj in objects)
            content = f"<Refs>{body}</Refs>" if body else "<Refs />"
        page, size, count = paging
        links = _links(_link(escape_href(href), rel) for rel, href in page_links)
        return document(f"<QueryResult{ROOT_NS}>{content}"
                        f'<PagingInfo PageNum="{page}" PageSize="{size}" PagesCount="{count}">'
                        f"{links}</PagingInfo></QueryResult>")


def error_document(status: int, message: str, first_chance: str | None = None) -> bytes:
    """EM's ``<Error>`` body; ``first_chance`` fills ``FirstChanceExceptionMessage``."""
    attrs = f'<Error Message="{escape_text(message)}" StatusCode="{status}"{ROOT_NS}'
    if first_chance is None:
        return document(f"{attrs} />")
    return document(f"{attrs}><FirstChanceExceptionMessage>{escape_text(first_chance)}"
                    "</FirstChanceExceptionMessage></Error>")
