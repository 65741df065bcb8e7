"""``python -m autograd_lab.classroom …`` runs ``python -m autograd_lab_course.classroom …``."""

from autograd_lab.course_alias import run

run("autograd_lab_course.classroom.cli")
