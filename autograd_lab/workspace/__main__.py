"""``python -m autograd_lab.workspace …`` runs ``python -m autograd_lab_course.workspace …``."""

from autograd_lab.course_alias import run

run("autograd_lab_course.workspace")
