"""``python -m autograd_lab.lab …`` runs ``python -m autograd_lab_course.lab_launcher …``."""

from autograd_lab.course_alias import run

run("autograd_lab_course.lab_launcher")
