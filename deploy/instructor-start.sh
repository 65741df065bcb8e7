#!/bin/sh
# The instructor pod's command (deploy/values.yaml runs it as root for the instructor only;
# students' pods start jupyterhub-singleuser as jovyan directly). NOT RUN on the development
# machines (no Docker, no Kubernetes): the same service is tested in the one-machine
# classroom (tests/test_classroom.py, tests/test_grading_sandbox.py).
#
# 1. As root: start the grading service (autograd_lab_course.grading.sandbox_service): it
#    forks each grading kernel as autograd-grader-1 or -2 (made in deploy/Dockerfile) in a
#    sandbox, and listens on /srv/grading/sandbox.sock, a socket only jovyan may open.
# 2. The instructor's home becomes 0700 (the grading users must not read the course, the
#    gradebook or the submissions in it).
# 3. Drop to jovyan for good (setpriv: uid 1000, gid 100, its groups) and run the server
#    with AUTOGRAD_LAB_GRADING_SOCKET naming the socket: its autograding kernels come from
#    the service. The service ends with the pod (its stdin, the pipe from `tail`, stays open
#    until then).
set -eu
install -d -o root -g root -m 0755 /srv/grading
rm -f /srv/grading/sandbox.sock
tail -f /dev/null | python -m autograd_lab_course.grading.sandbox_service \
    --socket /srv/grading/sandbox.sock --owner jovyan --base /srv/grading/kernels \
    autograd-grader-1 autograd-grader-2 &
chown jovyan:100 /home/jovyan
chmod 0700 /home/jovyan
i=0
while [ ! -S /srv/grading/sandbox.sock ]; do
    i=$((i + 1))
    if [ "$i" -gt 240 ]; then
        echo "error: the grading service did not start in 60 s; see the pod's log." >&2
        exit 1
    fi
    sleep 0.25
done
export AUTOGRAD_LAB_GRADING_SOCKET=/srv/grading/sandbox.sock HOME=/home/jovyan USER=jovyan
exec setpriv --reuid=1000 --regid=100 --init-groups --inh-caps=-all --bounding-set=-all \
    --no-new-privs "$@"
