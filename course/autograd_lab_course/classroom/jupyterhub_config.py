"""JupyterHub configuration of the local classroom (``jupyterhub -f`` this file).

Not imported: JupyterHub executes it. It reads the settings that
:func:`autograd_lab_course.classroom.hub.start_classroom` wrote to the JSON file named by
``AUTOGRAD_LAB_CLASSROOM_SETTINGS`` (ports, paths, accounts). Everything listens on 127.0.0.1
only: the public proxy, the proxy's API, the hub and every single-user server.
"""

import json
import os

from autograd_lab_course.classroom.hub_plugins import (
    ClassroomAuthenticator,
    ClassroomSpawner,
    SharedUserClassroomSpawner,
)

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
s = json.loads(open(os.environ["AUTOGRAD_LAB_CLASSROOM_SETTINGS"], encoding="utf-8").read())
host = "127.0.0.1"

c.JupyterHub.bind_url = f"http://{host}:{s['port']}/"
c.JupyterHub.hub_bind_url = f"http://{host}:{s['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://{host}:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [s["proxy_command"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(s["state"], "proxy.pid")
c.ConfigurableHTTPProxy.debug = False
# The proxy's auth token comes from CONFIGPROXY_AUTH_TOKEN in the hub's environment.

c.JupyterHub.db_url = "sqlite:///" + os.path.join(s["state"], "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(s["state"], "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every single-user server
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.allow_named_servers = False
c.JupyterHub.shutdown_on_logout = True  # logout ends the session and its server

c.JupyterHub.authenticator_class = ClassroomAuthenticator
c.ClassroomAuthenticator.password_file = s["password_file"]
c.Authenticator.allowed_users = set(s["users"])
c.Authenticator.admin_users = set()  # the instructor grades; nobody administers the hub

if s["isolated"]:  # run as root: each account's server runs as its own system user
    c.JupyterHub.spawner_class = ClassroomSpawner
else:  # --unsafe-shared-user: every server runs as the (non-root) user who started it
    c.JupyterHub.spawner_class = SharedUserClassroomSpawner
    c.SharedUserClassroomSpawner.home_dir_template = os.path.join(s["homes"], "{username}")
c.Spawner.config_root = s["config_root"]
c.Spawner.homes = s["homes"]
c.Spawner.runtime_bin = os.path.dirname(s["python"])
c.Spawner.grading_socket = s.get("grading_socket", "")  # run as root: the grading service
if s.get("ld_library_path"):  # the runtime's copied interpreter finds its shared library
    c.Spawner.environment = {"LD_LIBRARY_PATH": s["ld_library_path"]}
c.Spawner.ip = host
c.Spawner.cmd = [s["python"], "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
# A cold start of a single-user server takes 10-30 s on a busy 2-core machine (defaults:
# 60 s to start, 30 s to answer).
c.Spawner.start_timeout = s["start_timeout"]
c.Spawner.http_timeout = s["http_timeout"]
c.Spawner.poll_interval = 10
