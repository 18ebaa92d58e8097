"""Onboarding: lessons, practice cases generated from the flows, grading, progress and spaced repetition."""
