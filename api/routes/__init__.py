"""HTTP routes: thin translations between request models and the grader library."""
