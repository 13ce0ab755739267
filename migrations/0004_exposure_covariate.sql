-- The CUPED covariate of a unit's first exposure (the experiment's playbook `covariate`, read from
-- the profile at decision time); NULL when the experiment names none or the profile had no number.
ALTER TABLE exposures ADD COLUMN covariate REAL;
