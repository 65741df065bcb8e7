"""An nbgrader exchange behind JupyterHub's login, for hubs whose users share one uid.

In ``deploy/`` (Zero to JupyterHub) every pod runs as ``jovyan``; on a shared exchange
folder nothing tells one student's submission from another's. Here the files travel over
HTTP to the ``autograd-lab-exchange`` hub service, which learns each caller's name from the
hub (their server's ``$JUPYTERHUB_API_TOKEN``) and keeps the files where no user pod can
reach them.

Modules: :mod:`~.store` (the service's files, archive checks, atomic writes),
:mod:`~.service` (the tornado service, ``python -m autograd_lab_course.exchange``),
:mod:`~.client` (HTTP calls with one-sentence refusals), :mod:`~.nbgrader_plugin` (the
classes ``c.ExchangeFactory`` selects).

Importing this package imports neither JupyterHub nor nbgrader.
"""
