"""``python -m autograd_lab_course.exchange``: run the exchange service."""

import sys

from autograd_lab_course.exchange.service import main

sys.exit(main())
