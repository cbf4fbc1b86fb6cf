-- A few real rows of the Kemendagri code list (Kepmendagri No 300.2.2-2138 Tahun 2025) in the
-- SQL-dump layout of github.com/cahyadsn/wilayah (db/wilayah.sql): one province, two kabupaten,
-- Kabupaten Muara Enim (16.03) with three of its kecamatan and some of their desa/kelurahan.
DROP TABLE IF EXISTS wilayah;
CREATE TABLE IF NOT EXISTS wilayah (
    kode varchar(13) NOT NULL,
    nama varchar(255) NOT NULL,
    PRIMARY KEY (kode)
);

-- Provinsi SUMATERA SELATAN
INSERT INTO wilayah (kode, nama)
VALUES
('16','Sumatera Selatan'),
('16.02','Kabupaten Ogan Komering'),
('16.02.02','Tanjung Lubuk'),
('16.02.02.1011','Tanjung Lubuk'),
('16.03','Kabupaten Muara Enim'),
('16.03.01','Tanjung Agung'),
('16.03.01.2018','Tanjung Agung'),
('16.03.01.2024','Pulau Panggung'),
('16.03.02','Muara Enim'),
('16.03.02.1007','Pasar II Muara Enim'),
('16.03.02.1010','Muara Enim'),
('16.03.02.1016','Air Lintang'),
('16.03.02.2001','Tanjung Raja'),
('16.03.02.2011','Kepur'),
('16.03.08','Semende Darat Laut'),
('16.03.08.2003','Muara Dua'),
('16.03.08.2008','Pulau Panggung'),
('16.03.16','Sungai Rotan'),
('16.03.16.2005','Sukamerindu'),
('16.03.16.2016','Sukajadi'),
('16.04','Kabupaten Lahat'),
('16.04.12.2026','Jenti''an');
