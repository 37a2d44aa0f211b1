# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: veeam_em
short_description: Backup servers of Veeam Backup Enterprise Manager as inventory hosts
version_added: 1.0.0
description:
  - One host per backup server (Veeam Backup & Replication server) that Veeam Backup Enterprise Manager (EM)
    knows, named by EM's name for it, with C(ansible_host) set to that name, each in the group
    C(veeam_em_backup_servers).
  - "Every host variable starts with C(veeam_em_): C(veeam_em_backup_server) (C(id), C(uid), C(name), C(href),
    C(description), C(port), C(version), as RV(veeam_em.rest.veeam_em_backup_info#module:backups[].backup_server)
    with O(veeam_em.rest.veeam_em_backup_info#module:expand=[backup_server])),
    C(veeam_em_repositories) (each repository of the server: C(id), C(name), C(href), C(kind), C(capacity) and
    C(free_space) in bytes, and C(free_percent), the free space in percent of the capacity with one decimal, null
    when EM gives no capacity), C(veeam_em_backup_count) (the number of the server's backups) and, with
    O(backups=true), C(veeam_em_backups)."
  - "A server whose EM name is empty, holds a template delimiter (C({{), C({%), C({#)), names the controller
    (C(localhost), C(127.0.0.1), C(::1), in any case: Ansible's implicit localhost stays the one that
    C(hosts: localhost) and C(delegate_to: localhost) reach), is C(all), C(ungrouped) or the name of a group
    the inventory already has, is the name of a host that an earlier inventory source defined (that host keeps
    its own variables and groups: EM never sets its C(ansible_host)), is another server's id, or is shared with
    another server, becomes a host named by its id instead, with a warning that says why;
    C(veeam_em_backup_server.name) still holds EM's exact text. No server is left out."
  - Should that id itself be the name of a host or group of an earlier source (the same EM read by two
    sources, or a host named by a server's id), the source fails with a message that names the server,
    before any host is added.
  - Every value from EM is marked unsafe, so that no ansible-core ever templates it, and variables are
    set on the hosts themselves, never on a group that happens to share a server's name.
  - One EM session per inventory run, with a request per page of each of three query-service listings
    (backup servers, repositories, backups), that is a logon, three or more reads and a logoff; never a request
    per server or per repository. With O(cache=true) and a warm cache, no request at all.
  - As Ansible's own inventory caches, the cache answers for the same source as when it was written, that
    is the same O(url), O(api_version), O(username) and data options. It holds no password or session id and
    nothing made from one; so a warm cache also answers a run with another password, or with another
    O(session_id) (and no O(username)), without asking EM. It does hold the inventory (server names,
    repositories, backups), so keep O(cache_connection) where only those who may read that can.
  - The configuration file's name must end in C(.veeam_em.yml) or C(.veeam_em.yaml).
  - The connection options are those of M(veeam_em.rest.veeam_em_backup_info), each also read from its
    C(VEEAM_EM_*) environment variable, as the collection's AWX credential type injects them.
author:
  - veeam_em.rest developers (@veeam-em)
requirements:
  - requests
  - xmltodict
extends_documentation_fragment:
  - veeam_em.rest.connection
  - veeam_em.rest.connection.inventory
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description:
      - The name of this plugin; marks the file as a configuration of it.
    type: str
    required: true
    choices: [veeam_em.rest.veeam_em]
  password:
    description:
      - Password of O(username).
      - In the configuration file, may be a vaulted string (C(!vault |)); or leave it out and set E(VEEAM_EM_PASSWORD).
  ca_path:
    # A str, expanded by the plugin: as a path, an empty VEEAM_EM_CA_PATH (what an AWX
    # credential without a CA injects) would become the current directory.
    type: str
  backups:
    description:
      - Add C(veeam_em_backups) to each host, the server's backups, each exactly as an item of
        RV(veeam_em.rest.veeam_em_backup_info#module:backups).
      - Costs no request more (the backups are listed to count them anyway), but makes the inventory,
        and the cache, larger.
    type: bool
    default: false
  latest_restore_point:
    description:
      - With O(backups=true), give each backup in C(veeam_em_backups) its C(latest_restore_point), as
        O(veeam_em.rest.veeam_em_backup_info#module:latest_restore_point=true) does (the newest restore
        point, or null, always for a C(ParentBackup)).
      - Costs a windowed query of recent restore points (a request per page), plus a query per 40
        backups that have none in that window. Ignored without O(backups=true).
    type: bool
    default: false
seealso:
  - module: veeam_em.rest.veeam_em_backup_info
  - name: Constructed inventory plugin
    description: What O(compose), O(groups) and O(keyed_groups) can do.
    link: https://docs.ansible.com/ansible/latest/collections/ansible/builtin/constructed_inventory.html
"""

EXAMPLES = r"""
# em01.veeam_em.yml: the backup servers of em01 as hosts, grouped by version and by free space.
#   ansible-inventory -i em01.veeam_em.yml --graph
# Every connection option may be left out here and set in the environment instead (VEEAM_EM_URL,
# VEEAM_EM_USERNAME, VEEAM_EM_PASSWORD, ...), as the collection's AWX credential type injects them.
plugin: veeam_em.rest.veeam_em
url: https://em01.example.com:9398
username: svc-ansible
# ansible-vault encrypt_string --name password '<the password>'
password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  62313365396662343061393464336163383764373764613633653634306231386433626436623361
  6134333665353966363534333632666535333761666131620a663537646436643839616531643561
  63396430626135373864373036363737643864613734376462363361623065373139336539663139
  3837313238386535340a383830656636656265623939626262653832313930356666346636316461
  3035
ca_path: /etc/pki/veeam/em-ca.pem
timeout: 60
retries: 5
api_version: latest
# Each server's backups too, in veeam_em_backups, as the module returns them,
# each with its latest restore point.
backups: true
latest_restore_point: true
# One group per major version of Veeam Backup & Replication: vbr_12, vbr_13, ...
keyed_groups:
  - key: veeam_em_backup_server.version.split('.') | first
    prefix: vbr
# The servers that have a repository with less than 10 % free space.
groups:
  veeam_em_low_space: >-
    veeam_em_repositories | rejectattr('free_percent', 'none')
    | selectattr('free_percent', 'lt', 10) | list | length > 0
# EM knows the servers by short names: connect to their fully qualified names instead,
# and keep the version as a plain variable.
compose:
  ansible_host: veeam_em_backup_server.name ~ '.corp.example.com'
  vbr_version: veeam_em_backup_server.version
# A template above that uses a variable a host lacks fails the inventory instead of being skipped.
strict: true
# Keep the inventory for an hour: runs in that hour send no request to EM.
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible/veeam_em
cache_timeout: 3600

# A test EM with a self-signed certificate (validate_certs false: only there; elsewhere set ca_path),
# in a session opened before (export VEEAM_EM_SESSION_ID=<its X-RestSvcSessionId token>): no logon,
# no logoff, and no username and password needed:
#   plugin: veeam_em.rest.veeam_em
#   url: em-test.example.com
#   validate_certs: false

# A playbook for the hosts of this inventory (connection local: it only reads their variables):
#   - name: Repositories of every backup server
#     hosts: veeam_em_backup_servers
#     connection: local
#     gather_facts: false
#     tasks:
#       - name: Show each repository's free space
#         ansible.builtin.debug:
#           msg: "{{ item.name }}: {{ item.free_percent }} % free"
#         loop: "{{ veeam_em_repositories }}"
"""

import os

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import BACKUP_SELECTION_ARGUMENT_SPEC, backup_selection
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._inventory import (
    CONTROLLER_NAMES,
    backup_servers,
    host_names,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._signals import logged_off_on_signals

display = Display()

#: The group every backup server is in.
GROUP = "veeam_em_backup_servers"
#: Options that change what the inventory holds: a cache made with other values is not used. Those that
#: are also options of the backup selection (BACKUP_SELECTION_ARGUMENT_SPEC) are handed to get_backups.
_DATA_OPTIONS = ("backups", "latest_restore_point")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """EM's backup servers as hosts, through the collection's own client and backup listing."""

    NAME = "veeam_em.rest.veeam_em"

    def verify_file(self, path):
        """Only configuration files named for this plugin, so that other YAML inventories are left alone."""
        return super().verify_file(path) and path.endswith((".veeam_em.yml", ".veeam_em.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        for library, _error in missing_libraries():
            raise AnsibleParserError(missing_required_lib(library))
        options = {name: self.get_option(name) for name in CONNECTION_ARGUMENT_SPEC}
        options["ca_path"] = os.path.expanduser(options["ca_path"]) if options["ca_path"] else None
        try:
            settings = connection_settings(options)
        except VeeamEMError as error:
            raise AnsibleParserError(str(error)) from None
        cache_key = self.get_cache_key(path)
        source = self._source(settings)
        servers = None
        if self.get_option("cache") and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if isinstance(cached, dict) and cached.get("source") == source:
                servers = cached["backup_servers"]
        if servers is None:
            servers = self._fetch(settings)
            if self.get_option("cache"):
                self._cache[cache_key] = {"source": source, "backup_servers": servers}
        self._populate(servers)

    def _source(self, settings):
        """What the data depends on, kept with it in the cache: EM, its API version, the user who asks, and
        the data options. As Ansible's own inventory caches, nothing secret: the cache is a plain file, and
        the same source read with another password (or session) is answered from it."""
        return {
            "url": settings.base_url,
            "api_version": settings.api_version,
            "username": settings.username,
            **{name: self.get_option(name) for name in _DATA_OPTIONS},
        }

    def _fetch(self, settings):
        """One EM session: every backup server with its repositories and backups."""
        warnings = []
        try:
            # The latest restore points only for backups that are kept: no request for nothing.
            wanted = {name: self.get_option(name) and self.get_option("backups") for name in _DATA_OPTIONS if name in BACKUP_SELECTION_ARGUMENT_SPEC}
            selection = backup_selection([], wanted)
            client = EMClient(settings)
            warnings = client.warnings
            with logged_off_on_signals(client):
                return backup_servers(client, selection, with_backups=self.get_option("backups"))
        except VeeamEMError as error:
            raise AnsibleParserError(str(error)) from None
        finally:
            for warning in warnings:
                display.warning(warning)

    def _populate(self, servers):
        """Hosts, their variables and the constructed groups, from fetched or cached backup servers.

        Everything from EM is marked unsafe, so that no ansible-core templates it (2.16-2.18
        would template a plain string); variables go onto the host object itself, never
        through a name that Ansible might resolve to a group.
        """
        try:
            names = host_names([entry["backup_server"] for entry in servers], groups={*self.inventory.groups, GROUP},
                               hosts=set(self.inventory.hosts), controller_names=CONTROLLER_NAMES | set(C.LOCALHOST))
        except VeeamEMError as error:  # before any change to the inventory
            raise AnsibleParserError(str(error)) from None
        self.inventory.add_group(GROUP)
        strict = self.get_option("strict")
        for entry, (name, reason) in zip(servers, names):
            server = entry["backup_server"]
            if reason:
                display.warning(f"The backup server {server['id']} becomes the host {name}, not {server['name']!r}: that name {reason}.")
            self.inventory.add_host(name, group=GROUP)
            host = self.inventory.get_host(name)
            variables = {
                "ansible_host": server["name"] or server["id"],
                "veeam_em_backup_server": server,
                "veeam_em_repositories": entry["repositories"],
                "veeam_em_backup_count": entry["backup_count"],
            }
            if "backups" in entry:
                variables["veeam_em_backups"] = entry["backups"]
            for variable, value in wrap_var(variables).items():
                host.set_variable(variable, value)
            self._compose_variables(host, strict)
            # Groups see the composed variables too.
            variables = host.get_vars()
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)

    def _compose_variables(self, host, strict):
        """``compose``, as Constructable._set_composite_vars does it, but set on the host object.

        The constructed method sets each variable through ``inventory.set_variable(name)``,
        which picks a group of that name before the host.
        """
        variables = host.get_vars()
        for variable, expression in (self.get_option("compose") or {}).items():
            try:
                value = self._compose(expression, variables)
            except Exception as error:  # pylint: disable=broad-except  # as Constructable does
                if strict:
                    raise AnsibleParserError(f"Could not set {variable} for host {host.name}: {error}") from error
                continue
            host.set_variable(variable, value)
